package fleet

import "testing"

func TestActs(t *testing.T) {
	tests := []struct {
		step Step
		acts bool
	}{
		{StepConnect, false}, {StepPreflight, false}, {StepBackup, true}, {StepPush, true}, {StepRestart, true},
		{StepSettle, false}, {StepGuard, true}, {StepReboot, true}, {StepJournal, false}, {StepVerify, false},
		{StepConfirm, false}, {"no-such-step", false},
	}
	for _, tt := range tests {
		if got := Acts(tt.step); got != tt.acts {
			t.Errorf("Acts(%s) = %v, want %v", tt.step, got, tt.acts)
		}
	}
}

func TestFirstAct(t *testing.T) {
	tests := []struct {
		steps []Step
		want  int
	}{
		{[]Step{StepConnect, StepPreflight, StepBackup, StepPush}, 2},
		{[]Step{StepConnect, StepPreflight}, 2},
		{nil, 0},
	}
	for _, tt := range tests {
		if got := FirstAct(tt.steps); got != tt.want {
			t.Errorf("FirstAct(%v) = %d, want %d", tt.steps, got, tt.want)
		}
	}
}

func TestReachable(t *testing.T) {
	tests := []struct {
		name string
		h    HostResult
		want bool
	}{
		{"ok", HostResult{Status: StatusOK}, true},
		{"not started", HostResult{Status: StatusNotStarted}, false},
		{"failed to connect", HostResult{Status: StatusFailed, Step: StepConnect}, false},
		{"failed its preflight", HostResult{Status: StatusFailed, Step: StepPreflight}, true},
		{"lost at its reboot", HostResult{Status: StatusFailed, Step: StepReboot}, false},
		{"rolled back after its reboot", HostResult{Status: StatusRolledBack, Step: StepReboot}, true},
		{"failed its journal", HostResult{Status: StatusFailed, Step: StepJournal}, true},
	}
	for _, tt := range tests {
		if got := Reachable(tt.h); got != tt.want {
			t.Errorf("%s: Reachable = %v, want %v", tt.name, got, tt.want)
		}
	}
}
