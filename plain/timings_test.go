package plain

import (
	"slices"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/journal"
)

func TestTimingsRows(t *testing.T) {
	reboot := &fleet.RebootTiming{Down: 410 * time.Millisecond, Back: 1200 * time.Millisecond, Active: 1500 * time.Millisecond}
	journaled := &fleet.RebootTiming{Down: 4050 * time.Millisecond, Back: 6 * time.Second, Active: 7 * time.Second,
		SSHDStopped: 12 * time.Millisecond, Shutdown: 5148 * time.Millisecond, Noticed: 31 * time.Millisecond}
	before := &journal.UnitStop{Unit: "a.service", Duration: 90120 * time.Millisecond, Killed: true, Result: "timeout"}
	after := &journal.UnitStop{Unit: "a.service", Duration: 61 * time.Millisecond, Result: "clean"}
	restart := &journal.UnitStop{Unit: "a.service", Duration: 1020 * time.Millisecond, Killed: true, KilledOnRequest: true, Result: "failed:signal"}
	two, zero := 2, 0
	idle, busy := 0, 2
	tests := []struct {
		name string
		host fleet.HostResult
		want [][]string
	}{
		{"not rebooted", fleet.HostResult{Host: "h1"}, nil},
		{"rebooted, no timings", fleet.HostResult{Host: "h2", Reboot: reboot},
			[][]string{{"h2", "-", "-", "-", "-", "-", "-", "410ms", "1.20s", "1.50s", "-"}}},
		{"rebooted, with the journal's timeline", fleet.HostResult{Host: "h4", Reboot: journaled},
			[][]string{{"h4", "-", "-", "-", "12ms", "5.15s", "31ms", "4.05s", "6.00s", "7.00s", "-"}}},
		{"timings", fleet.HostResult{Host: "h3", Reboot: reboot, Timings: []fleet.UnitTiming{
			{Unit: "a.service", Before: before, After: after},
			{Unit: "b.service", AfterNote: "not stopped"},
			{Unit: "c.service", Before: before, After: after, InFlight: &idle},
			{Unit: "d.service", Before: before, After: after, InFlight: &busy}}},
			[][]string{
				{"h3", "a.service", "90.12s, SIGKILLed", "0.061s, clean", "-", "-", "-", "410ms", "1.20s", "1.50s", "-"},
				{"h3", "b.service", "no timings: ", "no timings: not stopped", "-", "-", "-", "410ms", "1.20s", "1.50s", "-"},
				{"h3", "c.service", "90.12s, SIGKILLed", "0.061s, clean, 0 in flight, idle: proves nothing", "-", "-", "-", "410ms", "1.20s", "1.50s", "-"},
				{"h3", "d.service", "90.12s, SIGKILLed", "0.061s, clean, 2 in flight", "-", "-", "-", "410ms", "1.20s", "1.50s", "-"},
			}},
		{"the restart's stop, in-flight counts and the previous boot's", fleet.HostResult{Host: "h4", Reboot: reboot, Timings: []fleet.UnitTiming{
			{Unit: "a.service", Before: restart, BeforeInFlight: &two, After: after, InFlight: &zero,
				Previous: after, PreviousBoot: "5f1c2d3e-0000-4000-8000-000000000001", PreviousChangedBy: "20261201_101500"}}},
			[][]string{
				{"h4", "a.service", "1.02s, SIGKILLed by fleetfix, 2 in flight", "0.061s, clean, 0 in flight, idle: proves nothing", "-", "-", "-", "410ms", "1.20s", "1.50s",
					"0.061s, clean (boot 5f1c2d3e; run 20261201_101500 changed its files)"},
			}},
	}
	for _, tt := range tests {
		var got [][]string
		for _, r := range Timings([]fleet.HostResult{tt.host}) {
			got = append(got, r.Cells())
		}
		if !slices.EqualFunc(got, tt.want, slices.Equal) {
			t.Errorf("%s: cells %q, want %q", tt.name, got, tt.want)
		}
	}
}
