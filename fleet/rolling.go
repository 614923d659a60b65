package fleet

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/sshcfg"
)

// Batches splits targets into the run's batches, in the order they run, as
// indexes into targets: first the canaries (one batch, one host at a time),
// then batches of inv.Rollout.Batch of the hosts that remain. A target that
// is another target's bastion runs before the hosts behind it, never beside
// them: targets run in bastion order (see runOrder) and no batch after the
// canaries holds two tiers. The jump chains are those the dialer follows:
// the inventory's, and sc's ProxyJump (sc nil: the inventory's alone).
func Batches(inv *inventory.Inventory, sc *sshcfg.Config, targets []inventory.Target) [][]int {
	order, tiers := runOrder(inv, sc, targets)
	out := split(tiers, inv.Rollout)
	for _, b := range out {
		for k, i := range b {
			b[k] = order[i]
		}
	}
	return out
}

// split is Batches of targets already in run order, with their tiers.
func split(tiers []int, p inventory.Policy) [][]int {
	var out [][]int
	c := min(p.Canary, len(tiers))
	if c > 0 {
		out = append(out, seq(0, c))
	}
	for _, b := range chunks(tiers[c:], max(p.Batch.Of(len(tiers)-c), 1)) {
		for k := range b {
			b[k] += c
		}
		out = append(out, b)
	}
	return out
}

// chunks cuts targets in run order into batches of at most size, and
// between two tiers.
func chunks(tiers []int, size int) [][]int {
	var out [][]int
	for i := 0; i < len(tiers); {
		j := i + 1
		for j < len(tiers) && j-i < size && tiers[j] == tiers[i] {
			j++
		}
		out = append(out, seq(i, j))
		i = j
	}
	return out
}

func seq(a, b int) []int {
	s := make([]int, 0, b-a)
	for i := a; i < b; i++ {
		s = append(s, i)
	}
	return s
}

// Rollout runs the fix on the targets in rolling batches: canaries first,
// then batches, up to MaxParallel hosts at once. When more hosts have failed
// than the failure budget allows (or a canary fails), no new host starts and
// hosts in flight stop at their next step boundary.
func Rollout(ctx context.Context, o Options) (*Summary, error) {
	r, err := newRunner(o)
	if err != nil {
		return nil, cannotStart(o.Reporter, StepRun, err)
	}
	return r.roll(ctx, r.work(rolloutFlow(r.opts))), nil
}

// Reboot cold-reboots the targets in the same rolling batches as a rollout,
// with the same verification (new boot id, host key, units healthy) and the
// journal's stop timings of the shutdown it caused against the one before.
func Reboot(ctx context.Context, o Options) (*Summary, error) {
	r, err := newRunner(o)
	if err != nil {
		return nil, cannotStart(o.Reporter, StepRun, err)
	}
	return r.roll(ctx, r.work(rebootFlow(r.opts))), nil
}

// cannotStart reports err, which keeps a command from starting at all, as
// the fail event of its run (step: the command's, run, rollback or prune)
// on rep, if any, and returns it: the stream says why it ends.
func cannotStart(rep Reporter, step Step, err error) error {
	if rep != nil {
		rep.Report(Event{Time: time.Now(), Step: step, Phase: PhaseFail, Batch: -1, Message: err.Error(), Err: err})
	}
	return err
}

// hostWork is one host's part of a run.
type hostWork func(ctx context.Context, t inventory.Target, batch int) HostResult

// work is a host's part of a run of flow f.
func (r *runner) work(f flow) hostWork {
	return func(ctx context.Context, t inventory.Target, batch int) HostResult {
		return r.runHost(ctx, t, batch, f)
	}
}

// roll runs work on every target in the policy's batches.
func (r *runner) roll(ctx context.Context, work hostWork) *Summary {
	o := r.opts
	targets := o.Targets
	if targets == nil {
		targets = o.Inventory.Hosts
	}
	pol := o.Inventory.Rollout
	order, tiers := runOrder(o.Inventory, o.SSHConfig, targets)
	targets = permute(targets, order)
	batches := split(tiers, pol)
	budget := pol.FailureBudget.Of(len(targets))
	line := fmt.Sprintf("run %s: %d host(s) in %d batch(es), failure budget %d", r.runID, len(targets), len(batches), budget)
	if o.plan != "" {
		line = "plan: " + o.plan
	}
	s := r.hostLoop(StepRun, "run "+r.runID, targets, line, func(results []HostResult) {
		sem := make(chan struct{}, max(pol.MaxParallel, 1))
		r.noteBastions(targets, tiers)
		next, failed := r.canaries(ctx, targets, results, sem, work)
		r.batches(ctx, targets[next:], results[next:], tiers[next:], sem, budget, failed, work)
	})
	s.RunID = r.runID
	return s
}

// hostLoop is a command's run over its targets, with the events every
// command's stream has: the run's start (line), each host's own, each host
// never started reported halted, and the run's end; all run-wide events,
// and a host's halt before its start, carry the command's step name (run,
// rollback, prune), what names it in words. body runs the hosts and fills
// in their results; a result it leaves not started is a host it did not
// start.
func (r *runner) hostLoop(name Step, what string, targets []inventory.Target, line string, body func(results []HostResult)) *Summary {
	start := time.Now()
	r.emit(Event{Step: name, Phase: PhaseStart, Batch: -1, Message: line})
	results := make([]HostResult, len(targets))
	for i, t := range targets {
		results[i] = HostResult{Host: t.Name, Batch: -1, Status: StatusNotStarted}
	}
	body(results)
	for _, res := range results {
		if res.Status == StatusNotStarted {
			r.emit(Event{Host: res.Host, Step: name, Phase: PhaseHalted, Batch: res.Batch, Message: "not started: the " + string(name) + " halted", Result: &res})
		}
	}
	s := &Summary{Hosts: results, Halted: r.isHalted(), Duration: time.Since(start)}
	msg := fmt.Sprintf("%s finished in %s: %d host(s), %d failed", what, duration.Format(s.Duration), len(results), s.Failed())
	if n := s.Cancelled(); n > 0 {
		msg += fmt.Sprintf(", %d cancelled", n)
	}
	if s.Halted {
		msg += "; halted: " + r.haltErr.Error()
	}
	r.emit(Event{Step: name, Phase: PhaseDone, Batch: -1, Duration: s.Duration, Message: msg})
	return s
}

// canaries runs the canary batch: one host at a time until pol.Canary
// hosts have really been changed, since a host already at the target
// proves nothing about the fix and the next one takes its place. A failed
// canary halts the run. It returns how many targets it took and how many
// of them failed.
func (r *runner) canaries(ctx context.Context, targets []inventory.Target, results []HostResult, sem chan struct{}, work hostWork) (next, failed int) {
	proved := 0
	for next < len(targets) && proved < r.opts.Inventory.Rollout.Canary {
		i := next
		results[i].Batch = 0
		if !r.waitTurn(ctx, sem) {
			break
		}
		next++
		res := work(ctx, targets[i], 0)
		<-sem
		results[i] = res
		switch {
		case res.Failed():
			failed++
			r.halt(fmt.Errorf("canary %s failed", res.Host))
		case res.Status == StatusOK:
			proved++
		}
	}
	return next, failed
}

// batches runs the targets after the canaries in batches of the policy's
// size that never span two bastion tiers, up to MaxParallel at once; once
// more hosts have failed than the budget allows (failed counts the
// canaries'), the run halts.
func (r *runner) batches(ctx context.Context, targets []inventory.Target, results []HostResult, tiers []int, sem chan struct{}, budget, failed int, work hostWork) {
	var mu sync.Mutex
	size := max(r.opts.Inventory.Rollout.Batch.Of(len(targets)), 1)
	for b, idx := range chunks(tiers, size) {
		bi := b + 1
		var wg sync.WaitGroup
		for _, i := range idx {
			results[i].Batch = bi
			if !r.waitTurn(ctx, sem) {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				res := work(ctx, targets[i], bi)
				mu.Lock()
				defer mu.Unlock()
				results[i] = res
				if res.Failed() {
					failed++
					if failed > budget {
						r.halt(fmt.Errorf("%d host(s) failed, budget %d", failed, budget))
					}
				}
			}()
		}
		wg.Wait()
	}
}

// waitTurn takes a slot for a new host, waiting while paused; it returns
// false when the run halted or ctx ended (the host is not started).
func (r *runner) waitTurn(ctx context.Context, sem chan struct{}) bool {
	for r.opts.Pause != nil && r.opts.Pause() && !r.isHalted() && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	if r.isHalted() || ctx.Err() != nil {
		return false
	}
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return false
	case <-r.haltCh:
		return false
	}
	// A host that failed while this one waited for its slot may have spent
	// the budget.
	if r.isHalted() {
		<-sem
		return false
	}
	return true
}
