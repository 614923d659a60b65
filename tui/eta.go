package tui

import (
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/sshcfg"
)

// Policy is what the TUI shows and reckons with of the rollout's policy.
type Policy struct {
	// Line is the policy on one line (fleet.PolicyLine), on the plan.
	Line string
	// MaxParallel is the most hosts in flight at once, for the ETA; 0: a
	// whole batch at once.
	MaxParallel int
	// OldStop bounds the old build's stop at the restart, for its
	// countdown; 0: none known.
	OldStop time.Duration
}

// PolicyOf is inv's policy over targets, batched by the jump chains of inv
// and sc (fleet.Batches), for Config.Policy.
func PolicyOf(inv *inventory.Inventory, sc *sshcfg.Config, targets []inventory.Target) Policy {
	return Policy{Line: fleet.PolicyLine(inv, sc, targets), MaxParallel: inv.Rollout.MaxParallel, OldStop: fleet.OldStop(inv)}
}

// stepMeans are the mean measured time of each step over the hosts that
// finished it, and whether a host has finished its whole rollout (before
// that, the steps still to come are unmeasured and any ETA a guess).
func (s *RunState) stepMeans() (map[fleet.Step]time.Duration, bool) {
	sum, n := map[fleet.Step]time.Duration{}, map[fleet.Step]int{}
	complete := false
	for i := range s.Hosts {
		h := &s.Hosts[i]
		if h.Status == StatusOK {
			complete = true
		}
		for st, d := range h.Took {
			sum[st] += d
			n[st]++
		}
	}
	for st := range sum {
		sum[st] /= time.Duration(n[st])
	}
	return sum, complete
}

// left is how long the host still needs, by the steps' mean times; first
// is the index of the first step that acts (fleet.FirstAct of the steps).
func (s *RunState) left(h *Host, mean map[fleet.Step]time.Duration, first int, now time.Time) time.Duration {
	var d time.Duration
	for i, st := range s.Steps {
		if h.Done[st] {
			continue
		}
		if h.Status == StatusQueued && h.Planned && len(h.Changes) == 0 && h.Resume == "" && i >= first {
			continue // already at the target: it ends with its checks
		}
		m := mean[st]
		if h.Status == StatusRunning && st == h.Step && !h.StepStarted.IsZero() {
			m = max(0, m-now.Sub(h.StepStarted))
		}
		d += m
	}
	return d
}

// ETA estimates the time left from the step times measured so far (the
// canary's first): each host to go takes the mean time of each step it
// has not done; the batches run one after the other, up to parallel hosts
// at once within one (0: all of it). False until a host has finished its
// rollout, and once the run is over.
func (s *RunState) ETA(now time.Time, parallel int) (time.Duration, bool) {
	mean, ok := s.stepMeans()
	if !ok || s.Finished {
		return 0, false
	}
	type batch struct {
		sum, longest time.Duration
		n            int
	}
	var order []int
	batches := map[int]*batch{}
	first := fleet.FirstAct(s.Steps)
	for i := range s.Hosts {
		h := &s.Hosts[i]
		if h.Status != StatusQueued && h.Status != StatusRunning {
			continue
		}
		b := batches[h.Batch]
		if b == nil {
			b = &batch{}
			batches[h.Batch] = b
			order = append(order, h.Batch)
		}
		d := s.left(h, mean, first, now)
		b.sum, b.longest, b.n = b.sum+d, max(b.longest, d), b.n+1
	}
	var eta time.Duration
	for _, k := range order {
		b := batches[k]
		t := b.longest
		if parallel > 0 && b.n > parallel {
			t = max(t, b.sum/time.Duration(parallel))
		}
		eta += t
	}
	return eta, true
}
