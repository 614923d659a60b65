package plain

import (
	"errors"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/fleet"
)

func TestUnlockReporter(t *testing.T) {
	res := &fleet.HostResult{Host: "h1"}
	tests := []struct {
		name string
		e    fleet.Event
		want string // h1's output
	}{
		{"removed", fleet.Event{Host: "h1", Step: fleet.StepUnlock, Phase: fleet.PhaseDone, Message: "locked by run X: removed", Result: res}, "h1: locked by run X: removed\n"},
		{"not locked", fleet.Event{Host: "h1", Step: fleet.StepUnlock, Phase: fleet.PhaseSkip, Message: "not locked", Result: res}, "h1: not locked\n"},
		{"refused", fleet.Event{Host: "h1", Step: fleet.StepUnlock, Phase: fleet.PhaseFail, Message: "locked by run X: refused: its lease is live", Err: errors.New("x"), Result: res}, "h1: locked by run X: refused: its lease is live\n"},
		{"a failure at another step names it", fleet.Event{Host: "h1", Step: fleet.StepConnect, Phase: fleet.PhaseFail, Message: "connection refused", Result: res}, "h1: connect: connection refused\n"},
		{"a warning", fleet.Event{Host: "h1", Step: fleet.StepUnlock, Phase: fleet.PhaseInfo, Warning: true, Message: "odd"}, "h1: warning: odd\n"},
		{"a step's done: only the status", fleet.Event{Host: "h1", Step: fleet.StepConnect, Phase: fleet.PhaseDone}, "h1: not-started\n"},
		{"an info line: only the status", fleet.Event{Host: "h1", Step: fleet.StepUnlock, Phase: fleet.PhaseInfo, Message: "detail"}, "h1: not-started\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			u := NewUnlockReporter(&b)
			u.Report(tt.e)
			u.Summary("unlock", &fleet.Summary{Hosts: []fleet.HostResult{{Host: "h1", Status: fleet.StatusNotStarted}}})
			if b.String() != tt.want {
				t.Errorf("printed %q, want %q", b.String(), tt.want)
			}
		})
	}
}

// TestUnlockReporterOrder: the hosts' lines come in the summary's order,
// whatever order the hosts ended in.
func TestUnlockReporterOrder(t *testing.T) {
	var b strings.Builder
	u := NewUnlockReporter(&b)
	for _, h := range []string{"h3", "h1", "h2"} {
		u.Report(fleet.Event{Host: h, Step: fleet.StepUnlock, Phase: fleet.PhaseSkip, Message: "not locked", Result: &fleet.HostResult{Host: h}})
	}
	u.Summary("unlock", &fleet.Summary{Hosts: []fleet.HostResult{{Host: "h1"}, {Host: "h2"}, {Host: "h3"}}})
	if want := "h1: not locked\nh2: not locked\nh3: not locked\n"; b.String() != want {
		t.Errorf("printed %q, want %q", b.String(), want)
	}
}
