package fleet

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/sshcfg"
)

// runOrder orders targets for a run: by tier, and in inventory order within
// one. A target's tier is how many other targets are on its jump chain
// (jumpChain, with sc), so each bastion among the targets comes before
// every host behind it (its own chain is a strict part of theirs). It
// returns the order, as indexes into targets, and the tier of each target
// in that order.
func runOrder(inv *inventory.Inventory, sc *sshcfg.Config, targets []inventory.Target) (order, tiers []int) {
	isTarget := make(map[string]bool, len(targets))
	for _, t := range targets {
		isTarget[t.Name] = true
	}
	tier := make([]int, len(targets))
	for i, t := range targets {
		for _, hop := range jumpChain(inv, sc, t) {
			if isTarget[hop] {
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

// jumpChain names the machines t is reached through, the one next to t
// first, resolved as RemoteDialer resolves them: the inventory's
// proxy_jump, else sc's ProxyJump.
//
// A hop is named as ssh names it. ssh takes a ProxyJump hop
// [user@]alias[:port] to be the alias, looked up in ssh_config like any
// host; fleetfix's resolution (inventory configJumps) takes the hop to be
// the inventory machine of that name, with its settings, and names the
// hop by its alias either way. So comparing names with the targets' finds
// exactly the targets the dialer connects through. A hop written as a
// target's address rather than its name is a machine of its own to the
// dialer, and is not matched.
//
// When sc does not resolve t, the dialer fails t with that error before
// it connects, with the same inventory and ssh_config: t changes nothing
// and where it runs cannot cut a host off, so the inventory's own chain
// orders it and the error is reported once, at t's connect.
func jumpChain(inv *inventory.Inventory, sc *sshcfg.Config, t inventory.Target) []string {
	rc, err := inv.ResolveSSH(t, sc)
	if err != nil {
		rc = inv.Resolve(t)
	}
	var hops []string
	for j := rc.Jump; j != nil; j = j.Jump {
		hops = append(hops, j.Name)
	}
	return hops
}

// noteBastions says, for each target that is the bastion of targets behind
// it, that it runs before them.
func (r *runner) noteBastions(targets []inventory.Target, tiers []int) {
	if len(tiers) == 0 || tiers[len(tiers)-1] == 0 {
		return
	}
	behind := make(map[string][]string)
	for _, t := range targets {
		for _, hop := range jumpChain(r.opts.Inventory, r.opts.SSHConfig, t) {
			behind[hop] = append(behind[hop], t.Name)
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
