package tui

import (
	"context"
	"sync"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/sshcfg"
)

// Plan plans the rollout o (a dry run, every host at once, fleet.PlanOptions)
// and returns its events, for Config.Plan. It runs before the TUI takes the
// terminal, so the prompts for secrets (sudo, key passphrases) happen on a
// normal one.
func Plan(ctx context.Context, o fleet.Options) ([]fleet.Event, error) {
	var mu sync.Mutex
	var plan []fleet.Event
	o.Reporter = fleet.ReporterFunc(func(e fleet.Event) {
		mu.Lock()
		defer mu.Unlock()
		plan = append(plan, e)
	})
	o.Pause = nil
	if _, err := fleet.Rollout(ctx, fleet.PlanOptions(o)); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	return plan, nil
}

// PlanRows lists the targets in the order the run's batches take them, each
// with the batch (0 = canary) the run will give it once the plan is known;
// sc is the ssh_config whose ProxyJump hops order them. The canary batch takes hosts in run order until inv's canary
// count of them has something to change (a host already at the target
// proves nothing, so the next takes its place, as fleet's run does), and
// the batches after it are cut from the hosts left.
func PlanRows(inv *inventory.Inventory, sc *sshcfg.Config, targets []inventory.Target, plan []fleet.Event) []HostRow {
	var order []int
	for _, idx := range fleet.Batches(inv, sc, targets) {
		order = append(order, idx...)
	}
	idle := unchangedHosts(plan)
	pol := inv.Rollout
	rows := make([]HostRow, len(order))
	next := 0
	for proved := 0; next < len(order) && proved < pol.Canary; next++ {
		name := targets[order[next]].Name
		rows[next] = HostRow{Name: name, Batch: 0}
		if !idle[name] {
			proved++
		}
	}
	rest := targets[:0:0]
	for _, i := range order[next:] {
		rest = append(rest, targets[i])
	}
	// The hosts after the canaries, batched as the run batches them: by
	// the policy's size of what is left, never across bastion tiers.
	after := *inv
	after.Rollout.Canary = 0
	k := next
	for b, idx := range fleet.Batches(&after, sc, rest) {
		for _, i := range idx {
			rows[k] = HostRow{Name: rest[i].Name, Batch: b + 1}
			k++
		}
	}
	return rows
}

// unchangedHosts are the hosts the plan found already at the target.
func unchangedHosts(plan []fleet.Event) map[string]bool {
	idle := map[string]bool{}
	for _, e := range plan {
		if e.Host != "" && e.Step == fleet.StepPreflight && e.Phase == fleet.PhaseDone {
			idle[e.Host] = len(e.Changes) == 0 && !resumes(e.Message)
		}
	}
	return idle
}
