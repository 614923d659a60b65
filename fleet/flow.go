package fleet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/inventory"
)

// step is one step of a host's flow: a named piece of work with a timeout
// of its own. Every step is safe to run again (a resumed run redoes what it
// has not recorded).
type step struct {
	name    Step
	timeout time.Duration
	// acts: the step changes the host. It runs under the host's lock, and a
	// halted run stops before it.
	acts bool
	// writes: the step replaces files, so when it has replaced any the
	// manifest records it as soon as it is done (beside the next step).
	// Other steps are recorded with the next save: redoing them on a resume
	// is harmless.
	writes bool
	// lock: the step checks that the host can take the work; once it has
	// found work to do, and unless the run is halted, the host's lock is
	// taken as its last act, so a lock another run holds fails this step.
	lock bool
	// locked: the step runs under the host's lock, which the runner takes
	// before it when the run does not hold it yet, so that a lock another
	// run holds fails this step.
	locked bool
	// saves: what the step records in the manifest must be on the host
	// before the next step begins (the guard's name, before the reboot it
	// guards): the manifest is saved, and the save waited for, as the
	// step's last act.
	saves bool
	// down: the host goes down during the step (a reboot) and cannot have
	// the lock's lease renewed, so the lease is first extended to outlast
	// the step.
	down bool
	// undoes: a failure at this step, which may have left the host half
	// changed, is rolled back at once when the policy's on_failure says so
	// (hostRun.fail).
	undoes bool
	run    func(hr *hostRun, ctx context.Context) (string, error)
}

// flow is the whole of a host's work for one command, as its steps and what
// its end writes.
type flow struct {
	// name is the step the host's own outcome is reported under: StepRun,
	// StepPrune, or StepRollback for a rollback.
	name  Step
	steps []step
	// whole: the flow is reported as the one step name (a rollback): its
	// steps emit no start or done events of their own, the flow's start
	// comes before its first step, and a step's failure or halt is the
	// flow's.
	whole bool
	// follows: the flow changes nothing (a scan), so its hosts stop when
	// the caller does, rather than run detached from its cancellation so
	// that no host is left half changed (each).
	follows bool
	// keepsRun: the flow records itself in a manifest on the host, so the
	// host's result names the run.
	keepsRun bool
	// The manifest's state after the flow completed, failed or halted; ""
	// leaves it as it was.
	complete, failed, halted string
	// finish sets the outcome of a flow that ran its steps and says what it
	// did.
	finish func(hr *hostRun) (Status, string)
}

// hostRun is one host's run of a flow: what its steps share.
type hostRun struct {
	r     *runner
	flow  flow
	ctx   context.Context // the host's whole run; each step has a shorter one
	t     inventory.Target
	give  *hostShare // the host's services and files
	batch int
	start time.Time
	res   HostResult

	h     Host
	facts *Facts
	// m is the run's record on the host; nil while there is none (a reboot
	// keeps none).
	m      *Manifest
	locked bool // this run holds the host's lock
	// owner is the lock's owner line while the run holds it, and
	// stopRenewal stops the renewal of its lease.
	owner       string
	stopRenewal func()
	saves       saver // the record of the last step that wrote files
	last        Step  // the last step that ran
	// planned is reported with the done event of the step that set it (the
	// preflight's changes).
	planned []Change
	// ending, when a step sets it, ends the flow after that step: nothing
	// to do on this host.
	ending  string
	endWith Status
	jr      *shutdownRead // the reboot's journal read, when there was one
	rst     restartState  // the restart's bounds and what it measured
	cleanup []func()
	// cutShort is the write step whose record failed to save while later
	// steps were still to run: the failure is the run's (no step failed),
	// but the host is half changed as a failure at that step leaves it, and
	// is undone as one (fail).
	cutShort Step
}

// runHost runs flow f on host t: each step between its start and done
// events, with its timeout, recorded in the manifest; a halted run stops
// before the next step that acts; the host's lock is released, and the
// manifest's final state written, before the host's final event, so
// whoever reacts to that event (an operator's rollback) finds the host free.
func (r *runner) runHost(ctx context.Context, t inventory.Target, batch int, f flow) HostResult {
	hr := &hostRun{r: r, flow: f, ctx: ctx, t: t, give: r.share(t.Name), batch: batch, start: time.Now(),
		res: HostResult{Host: t.Name, Batch: batch}}
	if f.keepsRun {
		hr.res.RunID, hr.res.Units = r.runID, hr.give.units()
	}
	hr.saves.hr = hr
	defer hr.close()
	if f.whole {
		r.emit(Event{Host: t.Name, Step: f.name, Phase: PhaseStart, Batch: batch})
	}
	for _, s := range f.steps {
		if s.acts && r.isHalted() {
			return hr.halt(hr.shown(s.name))
		}
		if failed, err := hr.do(s); err != nil {
			return hr.fail(hr.shown(failed), err)
		}
		if hr.ending != "" {
			return hr.end()
		}
		if s.name == r.opts.LastStep {
			break
		}
	}
	return hr.complete()
}

// do runs one step. It returns the step to blame when it fails: this one,
// or the flow's own when an earlier step's record failed to save (no step
// failed; the host is undone as that step's failure would be: cutShort).
func (hr *hostRun) do(s step) (Step, error) {
	r := hr.r
	if !hr.flow.whole {
		r.emit(Event{Host: hr.t.Name, Step: s.name, Phase: PhaseStart, Batch: hr.batch})
	}
	hr.last = s.name
	t0, doneBefore := time.Now(), hr.done()
	ctx, cancel := context.WithTimeout(hr.ctx, s.timeout)
	var lost <-chan struct{}
	if hr.h != nil {
		hr.leaseFor(ctx, s)
		lost = hr.h.Lost()
	}
	var msg string
	var err error
	if s.locked && !hr.locked {
		err = hr.lock(ctx)
	}
	if err == nil {
		msg, err = hr.runStep(ctx, s)
	}
	if err == nil && s.lock && hr.ending == "" && !r.isHalted() {
		err = hr.lock(ctx)
	}
	if err == nil && s.saves && hr.m != nil {
		err = hr.write(lockReq{})
	}
	cancel()
	if err != nil {
		hr.record(s.name, PhaseFail, t0, err)
		return s.name, err
	}
	hr.record(s.name, PhaseDone, t0, nil)
	if s.writes && hr.done() > doneBefore || hr.reconnected(lost) {
		if failed, err := hr.saves.start(s.name); err != nil {
			// This step did its work: its done is told before the
			// record's failure, which is the run's.
			hr.reportDone(s, t0, msg)
			hr.cutShort = failed
			return hr.flow.name, err
		}
	}
	hr.reportDone(s, t0, msg)
	return "", nil
}

// reportDone reports step s, started at t0, done with msg.
func (hr *hostRun) reportDone(s step, t0 time.Time, msg string) {
	if s.name != hr.flow.name && !hr.flow.whole {
		hr.r.emit(Event{Host: hr.t.Name, Step: s.name, Phase: PhaseDone, Batch: hr.batch, Duration: time.Since(t0), Message: msg, Changes: hr.planned})
	}
	hr.planned = nil
}

// shown is the step that step s is reported as: the flow's own when the
// flow is reported whole.
func (hr *hostRun) shown(s Step) Step {
	if hr.flow.whole {
		return hr.flow.name
	}
	return s
}

func (hr *hostRun) record(s Step, phase Phase, t0 time.Time, err error) {
	if hr.m != nil {
		hr.m.record(s, phase, t0, err)
	}
}

// done counts the files the run has replaced so far.
func (hr *hostRun) done() int {
	if hr.m == nil {
		return 0
	}
	return countDone(hr.m)
}

// setManifest makes m the run's record on the host.
func (hr *hostRun) setManifest(m *Manifest) {
	hr.m, hr.res.RunID = m, m.RunID
}

// endEarly ends the flow after the current step: the host has nothing to do.
func (hr *hostRun) endEarly(s Status, msg string) {
	hr.endWith, hr.ending = s, msg
}

// report ends the host's result and emits the host's final event.
func (hr *hostRun) report(status Status, step Step, phase Phase, msg string) HostResult {
	hr.res.Status, hr.res.Duration = status, time.Since(hr.start)
	if phase == PhaseFail || phase == PhaseHalted {
		hr.res.Step = step
	}
	if hr.m != nil && hr.flow.keepsRun {
		hr.res.Changed = countDone(hr.m)
		hr.res.Changes = slices.Clone(hr.m.Changes)
	}
	e := Event{Host: hr.t.Name, Step: step, Phase: phase, Batch: hr.batch, Message: msg, Err: hr.res.err, Result: &hr.res}
	if phase == PhaseDone {
		e.Duration = hr.res.Duration
	}
	hr.r.emit(e)
	return hr.res
}

func (hr *hostRun) complete() HostResult {
	// A record that failed to save once every step reported done is the
	// run's failure, as the final save's is.
	if _, err := hr.saves.wait(); err != nil {
		return hr.fail(hr.flow.name, err)
	}
	status, msg := hr.flow.finish(hr)
	if err := hr.release(hr.flow.complete); err != nil {
		// Every step reported done: the record of the whole failed.
		return hr.fail(hr.flow.name, err)
	}
	return hr.report(status, hr.flow.name, PhaseDone, msg)
}

func (hr *hostRun) end() HostResult {
	if err := hr.release(""); err != nil {
		return hr.fail(hr.flow.name, err)
	}
	return hr.report(hr.endWith, hr.flow.name, PhaseSkip, hr.ending)
}

func (hr *hostRun) halt(at Step) HostResult {
	if failed, err := hr.saves.wait(); err != nil {
		hr.cutShort = failed
		return hr.fail(hr.flow.name, err)
	}
	msg := "halted before this step"
	if !hr.locked {
		msg = "halted before any change"
	}
	hr.releaseReporting(hr.flow.halted)
	return hr.report(StatusHalted, at, PhaseHalted, msg)
}

// fail ends the host's flow at step at with err. A failure at a step that
// undoes is rolled back first, when the policy says so: the host is then
// reported rolled-back, with the failed step and the cause, and counts as
// failed all the same (HostResult.Failed). So is a host a step found
// already put back (the guard restored it): its manifest stays
// rolled-back, so that no later rollback undoes the run again.
func (hr *hostRun) fail(at Step, err error) HostResult {
	// The save in flight, if it failed, has its failure reported by the
	// one below.
	_, _ = hr.saves.wait()
	hr.r.detail(hr.t.Name, at, err)
	status, state := StatusFailed, hr.flow.failed
	if hr.m != nil && hr.m.State == StateRolledBack {
		status, state = StatusRolledBack, StateRolledBack
	}
	if errors.Is(hr.ctx.Err(), context.Canceled) {
		// The operator stopped the run now: the step did not fail, it was
		// cut off, and the host does not count against the budget.
		status = StatusCancelled
		if state != "" && state != StateRolledBack {
			state = StateInterrupted
		}
		hr.r.halt(errStopped)
	} else if undoAt := cmp.Or(hr.cutShort, at); state != StateRolledBack && hr.undoes(undoAt) {
		var undone bool
		if err, undone = hr.undoFailure(undoAt, err); undone {
			status, state = StatusRolledBack, StateRolledBack
		}
	}
	hr.releaseReporting(state)
	hr.res.Error, hr.res.err = err.Error(), &HostError{Host: hr.t.Name, Step: at, Err: err}
	return hr.report(status, at, PhaseFail, err.Error())
}

// undoes reports whether a failure at step s is to be rolled back at once:
// the step undoes, the policy rolls back, and the run has a record to
// undo from.
func (hr *hostRun) undoes(s Step) bool {
	if hr.r.opts.Inventory.Rollout.OnFailure != inventory.OnFailureRollback || hr.m == nil || hr.h == nil {
		return false
	}
	st, ok := hr.flow.step(s)
	return ok && st.undoes
}

// step finds the flow's step named s.
func (f flow) step(s Step) (step, bool) {
	i := slices.IndexFunc(f.steps, func(st step) bool { return st.name == s })
	if i < 0 {
		return step{}, false
	}
	return f.steps[i], true
}

// undoFailure rolls the host back after its failure err at step at, from
// its manifest, over the connection the run has (a host that did not come
// back from its reboot has none: it is left as it is), with the code of
// the rollback command. It returns the error the host is reported with,
// and whether the host was rolled back.
func (hr *hostRun) undoFailure(at Step, err error) (error, bool) {
	r := hr.r
	r.emit(Event{Host: hr.t.Name, Step: StepRollback, Phase: PhaseStart, Batch: hr.batch, Message: fmt.Sprintf("rolling back after the failure at %s", at)})
	t0 := time.Now()
	n, uerr := 0, hr.undoErr(err)
	if uerr == nil {
		// Detached: a rollback cut off half-way would leave a mixed host.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(hr.ctx), undoTimeout)
		// The guard goes first: armed, it would restore the host again
		// at its next boot.
		if uerr = removeGuard(ctx, hr.h, hr.m); uerr == nil {
			n, uerr = r.undo(ctx, hr.h, hr.m, false)
		}
		cancel()
	}
	d := time.Since(t0)
	if uerr != nil {
		hr.record(StepRollback, PhaseFail, t0, uerr)
		r.emit(Event{Host: hr.t.Name, Step: StepRollback, Phase: PhaseFail, Batch: hr.batch, Duration: d, Message: uerr.Error()})
		return fmt.Errorf("failed at %s: %w; not rolled back: %v", at, err, uerr), false
	}
	hr.record(StepRollback, PhaseDone, t0, nil)
	r.emit(Event{Host: hr.t.Name, Step: StepRollback, Phase: PhaseDone, Batch: hr.batch, Duration: d,
		Message: fmt.Sprintf("rolled back after the failure at %s: %d file(s) restored or removed", at, n)})
	return fmt.Errorf("failed at %s: %w; rolled back in %s", at, err, duration.Format(d)), true
}

// undoErr says why the host, which failed with err, cannot be rolled back
// now, or nil.
func (hr *hostRun) undoErr(err error) error {
	switch {
	case hr.ctx.Err() != nil:
		return errors.New("the run was stopped")
	case errors.Is(err, errNotBack) && hr.m.Guard != "":
		return fmt.Errorf("the host is not back: its guard restores it %s after it boots, unless fleetfix rollback does first", hr.r.opts.Inventory.Rollout.ConfirmTimeout)
	case errors.Is(err, errNotBack):
		return errors.New("the host is not back: fleetfix rollback once it is")
	}
	select {
	case <-hr.h.Lost():
		return errors.New("the connection to the host is gone")
	default:
		return nil
	}
}

// releaseReporting is release on a way out where its own failure can only
// be reported.
func (hr *hostRun) releaseReporting(state string) {
	if err := hr.release(state); err != nil {
		hr.r.detail(hr.t.Name, StepRun, err)
		hr.r.info(hr.t.Name, StepRun, true, "could not record the outcome in the manifest: "+err.Error())
	}
}

// close ends the host's run on every way out: a lock still held is
// released, the journal read stopped, the connection closed.
func (hr *hostRun) close() {
	_, _ = hr.saves.wait()
	if hr.locked {
		hr.releaseReporting("")
	}
	for _, f := range slices.Backward(hr.cleanup) {
		f()
	}
	if hr.h != nil {
		_ = hr.h.Close()
	}
}

// connect dials the host; the host key is verified by the dialer.
func (hr *hostRun) connect(ctx context.Context) (string, error) {
	h, err := hr.r.opts.Dial(ctx, hr.t)
	if err != nil {
		return "", err
	}
	hr.h = h
	return "", nil
}
