package tui

import (
	"context"
	"sync"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
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

// Rows lists the targets in the order the run's batches take them, each
// with its planned batch (0 = canary), for Config.Hosts.
func Rows(inv *inventory.Inventory, targets []inventory.Target) []HostRow {
	var rows []HostRow
	for bi, idx := range fleet.Batches(inv, targets) {
		b := bi
		if inv.Rollout.Canary <= 0 {
			b++ // no canary batch: batches count from 1
		}
		for _, i := range idx {
			rows = append(rows, HostRow{Name: targets[i].Name, Batch: b})
		}
	}
	return rows
}
