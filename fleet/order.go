package fleet

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fleetfix/fleetfix/inventory"
)

// runOrder orders targets for a run: by tier, and in inventory order within
// one. A target's tier is how many other targets are on its jump chain, so
// each bastion among the targets comes before every host behind it (its own
// chain is a strict part of theirs). It returns the order, as indexes into
// targets, and the tier of each target in that order.
func runOrder(inv *inventory.Inventory, targets []inventory.Target) (order, tiers []int) {
	isTarget := make(map[string]bool, len(targets))
	for _, t := range targets {
		isTarget[t.Name] = true
	}
	tier := make([]int, len(targets))
	for i, t := range targets {
		for j := inv.Resolve(t).Jump; j != nil; j = j.Jump {
			if isTarget[j.Name] {
				tier[i]++
			}
		}
	}
	order = seq(0, len(targets))
	slices.SortStableFunc(order, func(a, b int) int { return tier[a] - tier[b] })
	tiers = make([]int, len(order))
	for k, i := range order {
		tiers[k] = tier[i]
	}
	return order, tiers
}

// noteBastions says, for each target that is the bastion of targets behind
// it, that it runs before them.
func (r *runner) noteBastions(targets []inventory.Target, tiers []int) {
	if len(tiers) == 0 || tiers[len(tiers)-1] == 0 {
		return
	}
	behind := make(map[string][]string)
	for _, t := range targets {
		for j := r.opts.Inventory.Resolve(t).Jump; j != nil; j = j.Jump {
			behind[j.Name] = append(behind[j.Name], t.Name)
		}
	}
	for _, t := range targets {
		if hs := behind[t.Name]; len(hs) > 0 {
			r.info(t.Name, StepRun, false, fmt.Sprintf("bastion of %s: runs before them, never beside", strings.Join(hs, ", ")))
		}
	}
}

// permute returns targets in order.
func permute(targets []inventory.Target, order []int) []inventory.Target {
	out := make([]inventory.Target, len(order))
	for k, i := range order {
		out[k] = targets[i]
	}
	return out
}
