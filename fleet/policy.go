package fleet

import (
	"fmt"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/sshcfg"
)

// PolicyLine is the rollout's policy over targets on one line, as the run
// will apply it: "3 host(s) in 3 batch(es) · canary 1 · batch 1 ·
// parallel 1 · failure budget 0 · reboot · on failure rollback · old build
// SIGKILLed after 20.00s". A plan's run line says it (PlanOptions), since
// the plan itself runs flat. sc is the ssh_config whose ProxyJump hops
// order the batches (Batches).
func PolicyLine(inv *inventory.Inventory, sc *sshcfg.Config, targets []inventory.Target) string {
	p := inv.Rollout
	n := len(targets)
	parts := []string{fmt.Sprintf("%d host(s) in %d batch(es)", n, len(Batches(inv, sc, targets)))}
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
		parts = append(parts, "old build SIGKILLed after "+duration.Format(d))
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
