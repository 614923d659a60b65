package fleet

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
)

// TestPlanSaysWhatTheRunWouldDo: a plan runs flat (one batch, every host
// its budget) but its run line is the policy the run will apply, and its
// push says it would write, since nothing was written.
func TestPlanSaysWhatTheRunWouldDo(t *testing.T) {
	inv := fakeInventory(t, 4, inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 1}, MaxParallel: 1, Reboot: true,
		OnFailure: inventory.OnFailureRollback})
	inv.Services[0].Restart.OldStopTimeout = 20 * time.Second
	rec := &recorder{}
	dial := func(_ context.Context, t inventory.Target) (Host, error) { return outdatedHost(t.Name), nil }
	if _, err := Rollout(context.Background(), PlanOptions(Options{Inventory: inv, Dial: dial, Reporter: rec})); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range rec.events {
		lines = append(lines, e.Message)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"plan: 4 host(s) in 4 batch(es) · canary 1 · batch 1 · parallel 1 · failure budget 0 · reboot · on failure rollback · old build SIGKILLed after 20.00s",
		"would write 1 file(s)",
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
	// The run itself says what it does.
	rec = &recorder{}
	if _, err := Rollout(context.Background(), Options{Inventory: inv, Dial: dial, Reporter: rec, RunID: "20261124_213045", NoReboot: true}); err != nil {
		t.Fatal(err)
	}
	if m := rec.events[0].Message; !strings.HasPrefix(m, "run 20261124_213045: 4 host(s) in 4 batch(es), failure budget 0") {
		t.Errorf("the run's line: %q", m)
	}
}
