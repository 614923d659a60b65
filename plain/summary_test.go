package plain

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/golden"
	"github.com/fleetfix/fleetfix/journal"
)

func TestSummaryVerdictAndTimes(t *testing.T) {
	tests := []struct {
		name      string
		hosts     []fleet.HostResult
		halted    bool
		want, not []string
	}{
		{"a host rolled back from the TUI is not 'all hosts ok'",
			[]fleet.HostResult{{Host: "h1", Status: fleet.StatusOK, Duration: time.Second}, {Host: "h2", Status: fleet.StatusRolledBack, Duration: time.Second}},
			false, []string{"2 host(s), no host failed, 1 rolled back"}, []string{"all hosts ok"}},
		{"a host never started took no time",
			[]fleet.HostResult{{Host: "h1", Status: fleet.StatusCancelled, Step: fleet.StepRestart, Duration: 13 * time.Second}, {Host: "h2", Batch: 2, Status: fleet.StatusNotStarted}},
			true, []string{"h2    2       not-started  -        0        -        -  ", "1 cancelled, run halted"}, []string{"0ms"}},
		{"all ok", []fleet.HostResult{{Host: "h1", Status: fleet.StatusOK, Duration: 74 * time.Millisecond}},
			false, []string{"74ms", "all hosts ok"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			Summary(&b, &fleet.Summary{RunID: "r1", Hosts: tt.hosts, Halted: tt.halted, Duration: 2 * time.Second})
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("no %q in\n%s", w, b.String())
				}
			}
			for _, n := range tt.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("%q in\n%s", n, b.String())
				}
			}
		})
	}
}

func TestFleetLine(t *testing.T) {
	stop := func(d time.Duration, killed bool) *journal.UnitStop {
		return &journal.UnitStop{Duration: d, Killed: killed}
	}
	row := func(b, a *journal.UnitStop) TimingRow {
		return TimingRow{Host: "h", Timing: fleet.UnitTiming{Unit: "u", Before: b, After: a}}
	}
	tests := []struct {
		name string
		rows []TimingRow
		want string
	}{
		{"none", nil, ""},
		{"odd", []TimingRow{row(stop(90*time.Second, true), stop(11*time.Millisecond, false)), row(stop(4130*time.Millisecond, true), stop(9*time.Millisecond, false)),
			row(stop(time.Second, false), stop(20*time.Millisecond, false))}, "SIGKILLed 2 → 0 · median 4.13s → 0.011s"},
		{"no before", []TimingRow{row(nil, stop(10*time.Millisecond, false)), row(nil, stop(20*time.Millisecond, false))}, "SIGKILLed 0 → 0 · median - → 0.015s"},
	}
	for _, tt := range tests {
		if got := FleetLine(tt.rows); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// goldenSummary is a run with every kind of row: a rebooted canary with two
// units' timings and its previous boot's shutdown, a failed host with a
// long error, a host the run never started.
func goldenSummary() *fleet.Summary {
	two := 2
	before := &journal.UnitStop{Duration: 20020 * time.Millisecond, Killed: true, Result: "timeout"}
	after := &journal.UnitStop{Duration: 61 * time.Millisecond, Result: "clean"}
	reboot := &fleet.RebootTiming{Down: 4050 * time.Millisecond, Back: 6 * time.Second, Active: 7 * time.Second,
		SSHDStopped: 12 * time.Millisecond, Shutdown: 5148 * time.Millisecond, Noticed: 31 * time.Millisecond}
	return &fleet.Summary{RunID: "20261124_213045", Halted: true, Duration: 83 * time.Second, Hosts: []fleet.HostResult{
		{Host: "web-01", Batch: 0, Status: fleet.StatusOK, Changed: 2, RestartTime: 20310 * time.Millisecond, Duration: 41 * time.Second,
			Units: []string{"smart-proxy.service", "rule-proxy.service"}, Reboot: reboot, Timings: []fleet.UnitTiming{
				{Unit: "smart-proxy.service", Before: before, After: after, InFlight: &two, Previous: before, PreviousBoot: "5f1c2d3e-0000-4000-8000-000000000001"},
				{Unit: "rule-proxy.service", Before: after, After: after}}},
		{Host: "web-02", Batch: 1, Status: fleet.StatusFailed, Step: fleet.StepRestart, Changed: 2, Duration: 16 * time.Second,
			Units: []string{"smart-proxy.service"}, Error: "web-02: restart: smart-proxy.service not healthy within 15s: unit is failed\n" + strings.Repeat("script line\n", 60)},
		{Host: "web-03", Batch: 2, Status: fleet.StatusNotStarted, Units: []string{"smart-proxy.service"}},
	}}
}

// TestSummaryGolden: the summary as a file gets it (wide) and as an 80 and
// a 120 column terminal gets it, no line wider than the terminal.
func TestSummaryGolden(t *testing.T) {
	for _, tt := range []struct {
		name  string
		width int
	}{{"summary_wide", 0}, {"summary_80", 80}, {"summary_120", 120}} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			SummaryWidth(&b, goldenSummary(), tt.width)
			got := b.String()
			if tt.width > 0 {
				if n := widest(got); n > tt.width {
					t.Errorf("a line of %d columns at %d:\n%s", n, tt.width, got)
				}
			}
			golden.Check(t, filepath.Join("testdata", tt.name+".golden"), []byte(got))
		})
	}
}
