package plain

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
)

// PolicyLine is the rollout's policy over targets on one line, as the run
// will apply it (a plan runs flat, so its own run line says nothing of
// it): "3 host(s) in 3 batch(es) · canary 1 · batch 1 · parallel 1 ·
// failure budget 0 · reboot · on failure rollback · old build SIGKILLed
// after 20s".
func PolicyLine(inv *inventory.Inventory, targets []inventory.Target) string {
	p := inv.Rollout
	n := len(targets)
	parts := []string{fmt.Sprintf("%d host(s) in %d batch(es)", n, len(fleet.Batches(inv, targets)))}
	if p.Canary > 0 {
		parts = append(parts, fmt.Sprintf("canary %d", p.Canary))
	}
	parts = append(parts, "batch "+p.Batch.String(), fmt.Sprintf("parallel %d", max(p.MaxParallel, 1)),
		fmt.Sprintf("failure budget %d", p.FailureBudget.Of(n)))
	if p.Reboot {
		parts = append(parts, "reboot")
	}
	if p.OnFailure != "" {
		parts = append(parts, "on failure "+string(p.OnFailure))
	}
	if d := OldStop(inv); d > 0 {
		parts = append(parts, "old build SIGKILLed after "+Duration(d))
	}
	return strings.Join(parts, " · ")
}

// OldStop is the longest bound the services put on the old build's stop at
// the restart; 0: none (the units' own TimeoutStopSec applies).
func OldStop(inv *inventory.Inventory) time.Duration {
	var d time.Duration
	for _, s := range inv.Services {
		d = max(d, s.Restart.OldStopTimeout)
	}
	return d
}

// written is a push's "N file(s) written".
var written = regexp.MustCompile(`^(\d+) file\(s\) written`)

// PlanReporter passes a plan's events to r, saying what the run would do:
// the run line is the policy the run will apply (PolicyLine), not the
// plan's flat one, and a push the dry run went through says it would
// write, since nothing was written.
func PlanReporter(r fleet.Reporter, inv *inventory.Inventory, targets []inventory.Target) fleet.Reporter {
	line := PolicyLine(inv, targets)
	return fleet.ReporterFunc(func(e fleet.Event) {
		switch {
		case e.Host == "" && e.Step == fleet.StepRun && e.Phase == fleet.PhaseStart:
			e.Message = "plan: " + line
		case e.Host != "":
			e.Message = written.ReplaceAllString(e.Message, "would write $1 file(s)")
		}
		r.Report(e)
	})
}
