package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
)

// The flows of each command, named once, in one place. A new step is a
// function and one line here; the front ends learn of it through Steps.

// rolloutFlow is a rollout's work on one host: check, back up, replace,
// reload, restart and, when the policy asks, the cold reboot (after the
// settle wait, if any), the journal's proof and its gate.
func rolloutFlow(o Options) flow {
	to := o.Inventory.Rollout.Timeouts
	steps := []step{
		{name: StepConnect, timeout: to.Connect, run: (*hostRun).connect},
		{name: StepPreflight, timeout: to.Preflight, lock: true, run: (*hostRun).preflight},
		{name: StepBackup, timeout: to.Backup, acts: true, run: (*hostRun).backup},
		{name: StepPush, timeout: to.Push, acts: true, writes: true, undoes: true, run: (*hostRun).pushArtifacts},
		{name: StepDropIn, timeout: to.Push, acts: true, writes: true, undoes: true, run: (*hostRun).pushDropIns},
		{name: StepReload, timeout: to.Reload, acts: true, undoes: true, run: (*hostRun).reload},
		{name: StepRestart, timeout: to.Restart, acts: true, undoes: true, run: (*hostRun).restart},
	}
	if pol := o.Inventory.Rollout; pol.Reboot && !o.NoReboot {
		guard := pol.ConfirmTimeout > 0
		if pol.Settle > 0 {
			steps = append(steps, step{name: StepSettle, timeout: pol.Settle + time.Second, run: (*hostRun).settle})
		}
		if guard {
			steps = append(steps, step{name: StepGuard, timeout: to.Push, acts: true, saves: true, undoes: true, run: (*hostRun).installGuard})
		}
		steps = append(steps, rebootSteps(to)...)
		steps = append(steps, step{name: StepVerify, timeout: to.Journal, undoes: true, run: (*hostRun).verify})
		if guard {
			// Last, after every check of the reboot: not acting, so that a
			// halt does not leave the guard to undo a good host.
			steps = append(steps, step{name: StepConfirm, timeout: to.Push, run: (*hostRun).confirm})
		}
	}
	return flow{name: StepRun, steps: steps, keepsRun: true,
		complete: StateComplete, failed: StateFailed, halted: StateHalted,
		finish: func(hr *hostRun) (Status, string) {
			hr.res.Changed = countDone(hr.m)
			return StatusOK, fmt.Sprintf("%d file(s) changed", hr.res.Changed)
		}}
}

// rebootFlow is a reboot's work on one host: the cold reboot and the
// journal's stop times, with the reboot's own short preflight.
func rebootFlow(o Options) flow {
	to := o.Inventory.Rollout.Timeouts
	steps := append([]step{
		{name: StepConnect, timeout: to.Connect, run: (*hostRun).connect},
		{name: StepPreflight, timeout: to.Preflight, lock: true, run: (*hostRun).rebootPreflight},
	}, rebootSteps(to)...)
	return flow{name: StepRun, steps: steps,
		finish: func(*hostRun) (Status, string) { return StatusOK, "rebooted" }}
}

// rebootSteps end a rollout's flow and make a reboot's.
func rebootSteps(to inventory.Timeouts) []step {
	return []step{
		{name: StepReboot, timeout: to.RebootDown + to.RebootUp + to.Restart, acts: true, down: true, undoes: true, run: (*hostRun).reboot},
		{name: StepJournal, timeout: to.Journal, run: (*hostRun).journal},
	}
}

// rollbackFlow puts a host back as it was before run runID ("" the latest
// not rolled back): connect, then, under the lock, the rollback, all of it
// reported as the rollback step. timeout bounds each, as it bounds the
// host's whole rollback.
func rollbackFlow(runID string, timeout time.Duration, force bool) flow {
	return flow{name: StepRollback, whole: true,
		steps: []step{
			{name: StepConnect, timeout: timeout, run: (*hostRun).connectNamed},
			{name: StepRollback, timeout: timeout, acts: true, locked: true,
				run: func(hr *hostRun, ctx context.Context) (string, error) { return hr.rollback(ctx, runID, force) }},
		},
		complete: StateRolledBack,
		finish: func(hr *hostRun) (Status, string) {
			return StatusRolledBack, fmt.Sprintf("run %s rolled back: %d file(s) restored or removed", hr.m.RunID, hr.res.Changed)
		}}
}

// pruneFlow connects to a host and prunes it under its lock, reported as
// the prune step.
func pruneFlow(to inventory.Timeouts, keep int, dry bool) flow {
	return flow{name: StepPrune,
		steps: []step{
			{name: StepConnect, timeout: to.Connect, run: (*hostRun).connect},
			{name: StepPrune, timeout: to.Preflight + to.Backup, acts: true, locked: true,
				run: func(hr *hostRun, ctx context.Context) (string, error) { return hr.prune(ctx, keep, dry) }},
		},
		finish: func(hr *hostRun) (Status, string) {
			if dry {
				return StatusOK, fmt.Sprintf("would remove %d file(s)", hr.res.Changed)
			}
			return StatusOK, fmt.Sprintf("%d file(s) removed", hr.res.Changed)
		}}
}

// Steps lists, in order, the steps a rollout with o runs on each host: the
// list the TUI's columns and every report follow.
func Steps(o Options) []Step {
	if o.Inventory == nil {
		return nil
	}
	var names []Step
	for _, s := range rolloutFlow(o).steps {
		names = append(names, s.name)
		if s.name == o.LastStep {
			break
		}
	}
	return names
}

// scanFlow reads a host's last shutdown and changes nothing: connect, then
// the journal's read into the host's entry of got, both ending with the
// caller (follows). A host's outcome, and the scan's run-wide events, are
// reported under the scan step.
func scanFlow(o ScanOptions, got *perHost[ScanResult]) flow {
	to := o.Inventory.Rollout.Timeouts
	return flow{name: StepScan, follows: true,
		steps: []step{
			{name: StepConnect, timeout: to.Connect, run: (*hostRun).connect},
			{name: StepJournal, timeout: to.Journal, run: func(hr *hostRun, ctx context.Context) (string, error) {
				return hr.scanJournal(ctx, o, got.get(hr.t.Name))
			}},
		},
		finish: func(hr *hostRun) (Status, string) { return StatusOK, scanSummary(*got.get(hr.t.Name)) }}
}

// unlockFlow connects to a host and removes its lock (hostRun.unlock),
// reported as the unlock step with what the removal said.
func unlockFlow(to inventory.Timeouts, force bool) flow {
	said := newPerHost[string]()
	return flow{name: StepUnlock,
		steps: []step{
			{name: StepConnect, timeout: to.Connect, run: (*hostRun).connect},
			{name: StepUnlock, timeout: to.Preflight, acts: true,
				run: func(hr *hostRun, ctx context.Context) (string, error) {
					return hr.unlock(ctx, force, said.get(hr.t.Name))
				}},
		},
		finish: func(hr *hostRun) (Status, string) { return StatusOK, *said.get(hr.t.Name) }}
}
