package plain

import (
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
)

func TestPlanReporterSaysWhatTheRunWouldDo(t *testing.T) {
	inv := &inventory.Inventory{
		Hosts:    []inventory.Target{{Name: "h1"}, {Name: "h2"}, {Name: "h3"}, {Name: "h4"}},
		Services: []inventory.Service{{Unit: "a.service", Restart: inventory.Restart{OldStopTimeout: 20 * time.Second}}},
		Rollout: inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 1}, MaxParallel: 1, Reboot: true,
			OnFailure: inventory.OnFailureRollback},
	}
	var b strings.Builder
	rep := PlanReporter(NewReporter(&b, false), inv, inv.Hosts)
	// What the flat plan's engine says: one batch, every host its budget.
	rep.Report(fleet.Event{Step: fleet.StepRun, Phase: fleet.PhaseStart, Batch: -1, Message: "run x: 4 host(s) in 1 batch(es), failure budget 4"})
	rep.Report(fleet.Event{Host: "h1", Step: fleet.StepPush, Phase: fleet.PhaseDone, Batch: -1, Message: "2 file(s) written"})
	got := b.String()
	for _, want := range []string{
		"plan: 4 host(s) in 4 batch(es) · canary 1 · batch 1 · parallel 1 · failure budget 0 · reboot · on failure rollback · old build SIGKILLed after 20.00s",
		"would write 2 file(s)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	for _, not := range []string{"failure budget 4", "in 1 batch(es)", "file(s) written"} {
		if strings.Contains(got, not) {
			t.Errorf("%q in\n%s", not, got)
		}
	}
}
