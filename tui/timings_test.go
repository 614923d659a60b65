package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/journal"
)

// TestTimingsShowInFlightAndPreviousBoot: the timings screen shows the
// restart's stop with fleetfix's SIGKILL, the connections in flight at
// each stop, and the previous boot's figure labelled with its boot.
func TestTimingsShowInFlightAndPreviousBoot(t *testing.T) {
	two, zero := 2, 0
	ts := []fleet.UnitTiming{{Unit: "smart-proxy.service",
		Before:         &journal.UnitStop{Unit: "smart-proxy.service", Duration: 1020 * time.Millisecond, Killed: true, KilledOnRequest: true, Result: "failed:signal"},
		BeforeInFlight: &two,
		After:          &journal.UnitStop{Unit: "smart-proxy.service", Duration: 12 * time.Millisecond, Result: "clean"},
		InFlight:       &zero,
		Previous:       &journal.UnitStop{Unit: "smart-proxy.service", Duration: 11 * time.Millisecond, Result: "clean"},
		PreviousBoot:   "5f1c2d3e-0000-4000-8000-000000000001", PreviousChangedBy: "20261124_200000"}}
	ev := []fleet.Event{{Time: at(0), Step: fleet.StepRun, Phase: fleet.PhaseStart, Batch: -1, Message: "run " + runID},
		{Time: at(5), Host: "h1", Step: fleet.StepRun, Phase: fleet.PhaseDone, Batch: 0, Duration: 5 * time.Second,
			Result: &fleet.HostResult{Host: "h1", Status: fleet.StatusOK, RunID: runID, Duration: 5 * time.Second,
				Reboot: &fleet.RebootTiming{Down: time.Second, Back: 2 * time.Second, Active: 3 * time.Second}, Timings: ts}}}
	m := press(feed(press(testModel([]HostRow{{"h1", 0}}, planEvents(), at(6), Controls{}), "enter"), ev), "t")
	v := m.Render()
	for _, want := range []string{"1.02s ✗ SIGKILLed by fleetfix, 2 in flight", "0.012s ✓ clean, 0 in flight",
		"prev.  0.011s, clean (boot 5f1c2d3e; run 20261124_200000 changed its files)"} {
		if !strings.Contains(v, want) {
			t.Errorf("timings view lacks %q:\n%s", want, v)
		}
	}
}

// TestRebootLinesFit80: the reboot's figures at their widest formats
// (59.99s, 999ms) fit 80 columns in the timings view's indent.
func TestRebootLinesFit80(t *testing.T) {
	m := testModel(rows, nil, at(0), Controls{})
	w, ms := 59990*time.Millisecond, 999*time.Millisecond
	for _, l := range m.rebootLines(&fleet.RebootTiming{Down: w, Back: w, Active: w, SSHDStopped: ms, Shutdown: w, Noticed: ms}, "  ") {
		if n := ansi.StringWidth(l); n > 80 {
			t.Errorf("%d cells: %q", n, l)
		}
	}
}
