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
		want string // "" prints nothing
	}{
		{"removed", fleet.Event{Host: "h1", Step: fleet.StepUnlock, Phase: fleet.PhaseDone, Message: "locked by run X: removed", Result: res}, "h1: locked by run X: removed\n"},
		{"not locked", fleet.Event{Host: "h1", Step: fleet.StepUnlock, Phase: fleet.PhaseSkip, Message: "not locked", Result: res}, "h1: not locked\n"},
		{"refused", fleet.Event{Host: "h1", Step: fleet.StepUnlock, Phase: fleet.PhaseFail, Message: "locked by run X: refused: its lease is live", Err: errors.New("x"), Result: res}, "h1: locked by run X: refused: its lease is live\n"},
		{"a failure at another step names it", fleet.Event{Host: "h1", Step: fleet.StepConnect, Phase: fleet.PhaseFail, Message: "connection refused", Result: res}, "h1: connect: connection refused\n"},
		{"a warning", fleet.Event{Host: "h1", Step: fleet.StepUnlock, Phase: fleet.PhaseInfo, Warning: true, Message: "odd"}, "h1: warning: odd\n"},
		{"a step's done", fleet.Event{Host: "h1", Step: fleet.StepConnect, Phase: fleet.PhaseDone}, ""},
		{"an info line", fleet.Event{Host: "h1", Step: fleet.StepUnlock, Phase: fleet.PhaseInfo, Message: "detail"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			NewUnlockReporter(&b).Report(tt.e)
			if b.String() != tt.want {
				t.Errorf("printed %q, want %q", b.String(), tt.want)
			}
		})
	}
}
