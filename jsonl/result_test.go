package jsonl

import (
	"reflect"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/journal"
)

// TestResult reads back what NewHost wrote: a stored host is the host.
func TestResult(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 15, 0, 0, time.UTC)
	two, none := 2, 0
	before := &journal.UnitStop{Unit: "a.service", Start: at, End: at.Add(20020123 * time.Microsecond), Duration: 20020123 * time.Microsecond,
		Killed: true, KilledOnRequest: true, Result: "timeout"}
	after := &journal.UnitStop{Unit: "a.service", Start: at, End: at.Add(18 * time.Millisecond), Duration: 18 * time.Millisecond, Result: "clean"}
	tests := []fleet.HostResult{
		{Host: "h1", Batch: 0, Status: fleet.StatusOK, Changed: 2, RestartTime: 1500 * time.Millisecond, Duration: 36901 * time.Millisecond, RunID: "r",
			Units: []string{"a.service"}, Changes: []fleet.Change{{Path: "/bin/a", Existed: true}},
			Reboot: &fleet.RebootTiming{OldBootID: "o", NewBootID: "n", Down: time.Second, Back: 9 * time.Second, Active: 10 * time.Second,
				Noticed: 300 * time.Millisecond, SSHDStopped: 200 * time.Millisecond, Shutdown: 2 * time.Second},
			Timings: []fleet.UnitTiming{{Unit: "a.service", Before: before, After: after, BeforeInFlight: &two, InFlight: &none,
				Previous: before, PreviousBoot: "p", PreviousChangedBy: "r0"}, {Unit: "b.service", BeforeNote: "gone", AfterNote: "gone", PreviousNote: "gone"}}},
		{Host: "h2", Batch: 1, Status: fleet.StatusRolledBack, Step: fleet.StepVerify, Error: "failed at verify"},
		{Host: "h3", Batch: -1, Status: fleet.StatusNotStarted},
	}
	for _, want := range tests {
		if got := NewHost(want).Result(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read back\n%+v\nwant\n%+v", want.Host, got, want)
		}
	}
}

func TestFailed(t *testing.T) {
	tests := []struct {
		h    Host
		want bool
	}{
		{Host{Status: "failed", Step: "push"}, true},
		{Host{Status: "rolled-back", Step: "verify"}, true},
		{Host{Status: "rolled-back"}, false},
		{Host{Status: "cancelled", Step: "push"}, false},
		{Host{Status: "ok"}, false},
	}
	for _, tt := range tests {
		if got := tt.h.Failed(); got != tt.want {
			t.Errorf("%+v: Failed = %v, want %v", tt.h, got, tt.want)
		}
	}
}
