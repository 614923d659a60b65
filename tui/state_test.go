package tui

import (
	"testing"

	"github.com/fleetfix/fleetfix/fleet"
)

// TestCanRollBack offers a rollback by what the host's steps did, as fleet
// says which steps act: a failure at a step that changes nothing (connect,
// preflight, or one after the changes) is judged by the steps before it.
func TestCanRollBack(t *testing.T) {
	ev := func(st fleet.Step, ph fleet.Phase) fleet.Event {
		return fleet.Event{Time: at(1), Host: "h1", Step: st, Phase: ph}
	}
	done := func(sts ...fleet.Step) []fleet.Event {
		var out []fleet.Event
		for _, st := range sts {
			out = append(out, ev(st, fleet.PhaseStart), ev(st, fleet.PhaseDone))
		}
		return out
	}
	halted := fleet.Event{Time: at(2), Host: "h1", Step: fleet.StepBackup, Phase: fleet.PhaseHalted,
		Result: &fleet.HostResult{Host: "h1", Status: fleet.StatusHalted, Step: fleet.StepBackup}}
	tests := []struct {
		name string
		evs  []fleet.Event
		want bool
	}{
		{"failed at connect", []fleet.Event{ev(fleet.StepConnect, fleet.PhaseStart), ev(fleet.StepConnect, fleet.PhaseFail)}, false},
		{"failed at preflight", append(done(fleet.StepConnect), ev(fleet.StepPreflight, fleet.PhaseStart), ev(fleet.StepPreflight, fleet.PhaseFail)), false},
		{"failed at a check before any step that acts", append(done(fleet.StepConnect, fleet.StepPreflight), ev("checksum", fleet.PhaseStart), ev("checksum", fleet.PhaseFail)), false},
		{"failed at backup", append(done(fleet.StepConnect, fleet.StepPreflight), ev(fleet.StepBackup, fleet.PhaseStart), ev(fleet.StepBackup, fleet.PhaseFail)), true},
		{"failed at push, after the backup", append(done(fleet.StepConnect, fleet.StepPreflight, fleet.StepBackup), ev(fleet.StepPush, fleet.PhaseFail)), true},
		{"failed at journal, a step that does not act, after the reboot", append(done(fleet.StepConnect, fleet.StepPreflight, fleet.StepBackup, fleet.StepPush,
			fleet.StepDropIn, fleet.StepReload, fleet.StepRestart, fleet.StepReboot), ev(fleet.StepJournal, fleet.PhaseFail)), true},
		{"halted before its backup", append(done(fleet.StepConnect, fleet.StepPreflight), halted), false},
		{"halted after its backup", append(done(fleet.StepConnect, fleet.StepPreflight, fleet.StepBackup), fleet.Event{Time: at(2), Host: "h1", Step: fleet.StepPush,
			Phase: fleet.PhaseHalted, Result: &fleet.HostResult{Host: "h1", Status: fleet.StatusHalted, Step: fleet.StepPush}}), true},
	}
	for _, tt := range tests {
		s := NewRunState(rows, steps)
		for _, e := range tt.evs {
			s.Apply(e)
		}
		if got, why := s.Host("h1").CanRollBack(); got != tt.want {
			t.Errorf("%s: CanRollBack = %v (%s), want %v", tt.name, got, why, tt.want)
		}
	}
}
