package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/plain"
	"github.com/fleetfix/fleetfix/tui"
	"github.com/spf13/cobra"
)

// tuiExit turns runRolloutTUI's outcome into the command's exit: its error
// (an operator's abort is exitInterrupted), 1 when a host did not end ok,
// else 0 (also when the operator declined the plan: nothing changed).
func tuiExit(s *fleet.Summary, err error) error {
	if err != nil {
		return err
	}
	if s != nil && !s.OK() {
		return exitCode(exitFailedHosts)
	}
	return nil
}

// runRolloutTUI plans the rollout (a dry run, every host at once), shows the
// plan in the TUI and, once the operator confirms, runs the rollout with o
// while the TUI shows it live and steers it: pause, graceful abort (Halt),
// stop now (the context), rollback of one host. When the TUI exits before
// the run ended, the run is aborted gracefully and its remaining events are
// printed as plain lines. The summary (with the TUI's rollbacks folded in)
// is printed after the TUI exits and returned; nil when the operator quit
// at the plan. An operator's abort returns exitInterrupted with it.
func runRolloutTUI(cmd *cobra.Command, f *commonFlags, inv *fleet.Inventory, targets []fleet.Target, o fleet.Options) (*fleet.Summary, error) {
	ctx := cmd.Context()
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if o.RunID == "" {
		o.RunID = fleet.NewRunID(time.Now())
	}

	// The plan, before the TUI takes the terminal: prompts for secrets
	// (sudo, key passphrases) happen here, on a normal terminal.
	fmt.Fprintf(errOut, "fleetfix: planning %d host(s)...\n", len(targets))
	var pmu sync.Mutex
	var plan []fleet.Event
	collect := fleet.ReporterFunc(func(e fleet.Event) {
		pmu.Lock()
		defer pmu.Unlock()
		plan = append(plan, e)
	})
	po := o
	po.Reporter, po.Pause = collect, nil
	if _, err := fleet.Rollout(ctx, fleet.PlanOptions(po)); err != nil {
		return nil, err
	}
	if interrupted(ctx) {
		return nil, nil // Ctrl-C while planning: nothing changed; run() exits 130
	}

	rows := tuiRows(targets, inv.Rollout)

	rep, events, closeEvents := tui.NewQueue()
	halt := make(chan struct{})
	var haltOnce sync.Once
	var operatorAbort atomic.Bool
	abort := func() { haltOnce.Do(func() { close(halt) }) }
	// A Ctrl-C or SIGTERM that reaches main (not the TUI's Ctrl-C key) is
	// the same graceful abort.
	tuiDone := make(chan struct{})
	defer close(tuiDone)
	go func() {
		select {
		case <-o.Halt:
			operatorAbort.Store(true)
			abort()
		case <-tuiDone:
		}
	}()
	runCtx, stopNow := context.WithCancel(ctx)
	defer stopNow()
	var paused atomic.Bool
	o.Reporter, o.Halt, o.Pause = rep, halt, paused.Load

	var work sync.WaitGroup // the rollout and every rollback
	var started atomic.Bool
	runDone := make(chan struct{})
	var sum *fleet.Summary
	var runErr error
	var rbMu sync.Mutex
	rollbacks := map[string]fleet.HostResult{}
	controls := tui.Controls{
		Start: func() {
			if started.Swap(true) {
				return
			}
			work.Add(1)
			go func() {
				defer work.Done()
				defer close(runDone)
				// A panic here would kill the process with the terminal in
				// raw mode: it becomes the run's error and the TUI ends.
				defer func() {
					if p := recover(); p != nil {
						runErr = fmt.Errorf("engine panic: %v\n%s", p, debug.Stack())
						rep.Report(fleet.Event{Time: time.Now(), Step: fleet.StepRun, Phase: fleet.PhaseFail, Batch: -1, Message: "engine panic: " + fmt.Sprint(p)})
					}
				}()
				sum, runErr = fleet.Rollout(runCtx, o)
				if runErr != nil {
					rep.Report(fleet.Event{Time: time.Now(), Step: fleet.StepRun, Phase: fleet.PhaseFail, Batch: -1, Message: runErr.Error()})
				}
			}()
		},
		Pause: func(p bool) { paused.Store(p) },
		Abort: func() { operatorAbort.Store(true); abort() },
		Stop:  func() { operatorAbort.Store(true); abort(); stopNow() },
		Rollback: func(host, runID string) {
			i := slices.IndexFunc(targets, func(t fleet.Target) bool { return t.Name == host })
			if i < 0 {
				return
			}
			if runID == "" {
				runID = o.RunID
			}
			work.Add(1)
			go func() {
				defer work.Done()
				defer func() {
					if p := recover(); p != nil {
						rep.Report(fleet.Event{Time: time.Now(), Host: host, Step: fleet.StepRollback, Phase: fleet.PhaseFail, Batch: -1, Message: fmt.Sprintf("rollback panic: %v", p)})
					}
				}()
				// Detached from Ctrl-C, as the rollback command is: a
				// rollback cut off half-way would leave a mixed host.
				s, err := fleet.Rollback(context.WithoutCancel(ctx), fleet.RollbackOptions{Inventory: inv, Targets: targets[i : i+1],
					Dial: o.Dial, Reporter: rep, RunID: runID, StateDir: o.StateDir, Timeout: 5 * time.Minute})
				if err != nil {
					rep.Report(fleet.Event{Time: time.Now(), Host: host, Step: fleet.StepRollback, Phase: fleet.PhaseFail, Batch: -1, Message: err.Error()})
					s = &fleet.Summary{Hosts: []fleet.HostResult{{Host: host, Status: fleet.StatusFailed, Step: fleet.StepRollback, Error: err.Error()}}}
				}
				rbMu.Lock()
				defer rbMu.Unlock()
				rollbacks[host] = s.Hosts[0]
			}()
		},
	}

	title := fmt.Sprintf("fleetfix rollout %s (run %s)", cmd.Flags().Arg(0), o.RunID)
	res, tuiErr := tui.Run(ctx, tui.Config{Title: title, Hosts: rows, Plan: plan, Events: events, Controls: controls, Steps: fleet.Steps(o)})

	if !started.Load() {
		closeEvents()
		for range events {
		}
		if tuiErr != nil {
			return nil, tuiErr
		}
		fmt.Fprintln(out, "fleetfix: rollout not started: nothing changed")
		if res.Interrupted {
			return nil, exitCode(exitInterrupted)
		}
		return nil, nil
	}
	select {
	case <-runDone:
	default:
		// The TUI ended before the run: it is aborted gracefully (quitting
		// asked for that already), and what follows is printed as lines.
		abort()
		fmt.Fprintln(errOut, "fleetfix: stopping: no new host starts, hosts in flight finish their current step (Ctrl-C twice: stop now)")
	}
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		p := plain.NewReporter(out, f.verbose)
		for _, e := range res.Unshown {
			p.Report(e)
		}
		for e := range events {
			p.Report(e)
		}
	}()
	work.Wait()
	closeEvents()
	<-printed
	if runErr != nil {
		return nil, runErr
	}
	foldRollbacks(sum, rollbacks)
	plain.Summary(out, sum)
	if tuiErr != nil {
		fmt.Fprintln(errOut, "fleetfix: tui:", tuiErr)
	}
	if operatorAbort.Load() {
		return sum, exitCode(exitInterrupted)
	}
	return sum, nil
}

// tuiRows lists the targets in the order the policy's batches take them,
// each with its planned batch (0 = canary).
func tuiRows(targets []fleet.Target, pol fleet.Policy) []tui.HostRow {
	var rows []tui.HostRow
	for bi, idx := range fleet.Batches(len(targets), pol) {
		b := bi
		if pol.Canary <= 0 {
			b++ // no canary batch: batches count from 1
		}
		for _, i := range idx {
			rows = append(rows, tui.HostRow{Name: targets[i].Name, Batch: b})
		}
	}
	return rows
}

// foldRollbacks records in the run's summary the rollbacks done from the
// TUI: rolled back, or failed at the rollback.
func foldRollbacks(s *fleet.Summary, rb map[string]fleet.HostResult) {
	for i, h := range s.Hosts {
		r, ok := rb[h.Host]
		if !ok {
			continue
		}
		switch r.Status {
		case fleet.StatusRolledBack:
			s.Hosts[i].Status, s.Hosts[i].Step, s.Hosts[i].Error = fleet.StatusRolledBack, "", ""
		case fleet.StatusFailed:
			s.Hosts[i].Status, s.Hosts[i].Step, s.Hosts[i].Error = fleet.StatusFailed, fleet.StepRollback, "rollback: "+r.Error
		}
	}
}
