package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fleetfix/fleetfix/remote"
)

// A host run's record: the manifest on the host (and its local copy), and
// the host's lock. A rollout's lock is taken by its first save and released
// by its last, each in the same session as the save; a flow with no
// manifest yet (rollback, prune) takes and releases it on its own
// (lockHost, unlockHost).

// manifestTimeout bounds one manifest save. Saves run detached from the
// run's cancellation: a step that succeeded must not go unrecorded because
// the operator pressed Ctrl-C just after it.
const manifestTimeout = 30 * time.Second

// lock takes the host's lock: with the first save of the manifest when the
// run keeps one (nothing is written if another run holds it), else on its
// own. A lock whose holder is gone is taken over (lockStale); the lease is
// renewed from then until the release.
func (hr *hostRun) lock(ctx context.Context) error {
	mid := ""
	if hr.m != nil {
		mid = hr.m.RunID
	}
	hr.owner = hr.r.self.owner(hr.r.runID, mid)
	err := hr.take(ctx, "")
	if errors.Is(err, errLocked) {
		err = hr.lockStale(ctx)
	}
	if err != nil {
		return err
	}
	hr.locked = true
	hr.stopRenewal = hr.renewLease()
	if hr.facts != nil && hr.facts.Resume != nil {
		hr.cleanTemps(ctx, hr.m)
	}
	return nil
}

// take takes the lock, or takes it over from the stale owner line.
func (hr *hostRun) take(ctx context.Context, stale string) error {
	l := lockReq{action: takeLock, owner: hr.owner, lease: hr.r.lease, stale: stale}
	if hr.m != nil {
		return hr.write(l)
	}
	return lockHost(ctx, hr.h, l)
}

// lockStale takes the lock over from a holder that no longer holds it (its
// lease expired, or its controller is this machine and its process is
// gone), with a warning, and marks the holder's run interrupted; a live
// holder is refused, naming it.
func (hr *hostRun) lockStale(ctx context.Context) error {
	holder, err := showLock(ctx, hr.h)
	switch {
	case err != nil:
		return fmt.Errorf("lock the host: %w (and %w)", errLocked, err)
	case holder == nil:
		return hr.take(ctx, "") // released since
	}
	why := holder.stale(hr.r.self, procStart)
	if why == "" {
		return lockedError{fmt.Sprintf("locked by %s; if it is gone: fleetfix unlock %s", holder, hr.t.Name)}
	}
	if err := hr.take(ctx, holder.line); err != nil {
		return err
	}
	msg := fmt.Sprintf("took over the host's lock from %s: %s", holder, why)
	if hr.m != nil && holder.Manifest == hr.m.RunID {
		msg += "; this run resumes it"
	} else if marked, err := hr.markInterrupted(ctx, holder.Manifest); err != nil {
		msg += "; could not mark its run interrupted: " + err.Error()
	} else if marked {
		msg += fmt.Sprintf("; run %s marked %s", holder.Manifest, StateInterrupted)
	}
	hr.r.info(hr.t.Name, hr.shown(hr.last), true, msg)
	return nil
}

// renewLease renews the lock's lease every third of it, in the background,
// until the function it returns is called. A lease that could not be
// renewed is tried again at the next tick (a host rebooting does not
// answer); a lock that is no longer this run's is reported, once.
func (hr *hostRun) renewLease() (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(hr.ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(hr.r.lease/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := hr.extendLease(ctx, hr.r.lease); exitStatus(err) == lockedStatus {
				hr.r.info(hr.t.Name, StepRun, true, "the host's lock is no longer this run's: "+err.Error())
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// extendLease moves the lease's end to d from now, unless it is later.
func (hr *hostRun) extendLease(ctx context.Context, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, max(hr.r.lease/3, time.Second))
	defer cancel()
	_, err := runScript(ctx, hr.h, scriptLockRenew, RemoteLockDir, hr.owner, leaseSeconds(d))
	return err
}

// leaseFor extends the lease, before a step during which the host goes
// down, to outlast the step: no renewal reaches it then.
func (hr *hostRun) leaseFor(ctx context.Context, s step) {
	if !hr.locked || !s.down {
		return
	}
	if err := hr.extendLease(ctx, s.timeout+hr.r.lease); err != nil {
		hr.r.info(hr.t.Name, s.name, true, "could not extend the host's lock for this step: "+err.Error())
	}
}

// release writes the manifest's final state (state "" keeps the one it
// has) and releases the host's lock in the same session; a run without a
// manifest only releases the lock. A save that fails is made again after a
// reconnect, so that a connection lost during the run leaves neither a
// manifest that says running nor the lock. It does nothing when the run
// does not hold the lock.
func (hr *hostRun) release(state string) error {
	if !hr.locked {
		return nil
	}
	hr.locked = false
	hr.stopRenewal()
	if hr.m == nil {
		unlockHost(hr.ctx, hr.h, hr.owner)
		return nil
	}
	// A state the host did not save is not the run's: the host's record
	// keeps the last it saved (running: the next rollout resumes the run),
	// though the controller's local copy, written first, may hold the new
	// one.
	prev := hr.m.State
	if state != "" {
		hr.m.State = state
	}
	err := hr.writeFinal()
	if err != nil {
		hr.m.State = prev
	}
	return err
}

// writeFinal saves the manifest and releases the lock, again after a
// reconnect if it fails.
func (hr *hostRun) writeFinal() error {
	l := lockReq{action: releaseLock, owner: hr.owner}
	err := hr.write(l)
	if err == nil {
		return nil
	}
	if rerr := hr.reconnect(); rerr != nil {
		return fmt.Errorf("%w (and reconnect: %w)", err, rerr)
	}
	if err = hr.write(l); err != nil {
		unlockHost(hr.ctx, hr.h, hr.owner) // the lock at least
	}
	return err
}

// reconnectPause is the wait between two tries of reconnect.
const reconnectPause = time.Second

// reconnect dials the host again after the final save failed. A
// connection cut for a while is waited for as long as the run's lease on
// the lock lasts: nobody could take the host before then anyway, and the
// run itself then records its end and frees the host, leaving no manifest
// that says running. A run the operator stopped gets one try; so does a
// host that did not come back from its reboot, within a connect step's
// time: it was waited for already, reboot_up long.
func (hr *hostRun) reconnect() error {
	wait := manifestTimeout
	s, ok := hr.flow.step(hr.last)
	switch connect := hr.r.opts.Inventory.Rollout.Timeouts.Connect; {
	case ok && s.down && connect > 0:
		wait = min(wait, connect)
	case hr.ctx.Err() == nil && (!ok || !s.down):
		wait = max(wait, hr.r.lease)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(hr.ctx), wait)
	defer cancel()
	for {
		err := hr.h.Reconnect(ctx)
		var hk *remote.HostKeyError
		if err == nil || hr.ctx.Err() != nil || errors.As(err, &hk) {
			return err // a host key refused now is refused again
		}
		t := time.NewTimer(reconnectPause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// reconnected reports whether the connection a step started on (lost, its
// Lost channel) was replaced by a new one while the step still succeeded:
// the record is then brought up to date at once, a cut connection having
// perhaps kept a save from landing.
func (hr *hostRun) reconnected(lost <-chan struct{}) bool {
	return lost != nil && hr.locked && hr.m != nil && isDone(lost)
}

// write saves the manifest now, after the save in flight (whose error is
// the caller's to collect with saves.wait), taking or releasing the lock.
func (hr *hostRun) write(lock lockReq) error {
	_, _ = hr.saves.wait()
	w, err := hr.m.snapshot(hr.r.opts.StateDir)
	if err != nil {
		return err
	}
	return hr.put(w, lock)
}

// put writes a manifest snapshot, detached, with a timeout of its own.
func (hr *hostRun) put(w *manifestWrite, lock lockReq) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(hr.ctx), manifestTimeout)
	defer cancel()
	return w.write(ctx, hr.h, lock)
}

// saver writes the record of a step that changed a file beside the step
// after it: the record of a change already made need not hold up the next
// one. A record that lags its change is what a run cut off between the two
// leaves anyway: rollback compares the files themselves, and a resumed run
// counts the files at the target as done. Saves stay in order: each waits
// for the one before, and every other save of the host waits for it too.
type saver struct {
	hr   *hostRun
	done chan struct{} // closed when the save in flight ends; nil: none
	step Step          // the step it records
	err  error
}

// start snapshots the manifest, which records step, and writes it in the
// background. It returns the error of the save before it, if that one
// failed, with the step that save recorded.
func (s *saver) start(step Step) (Step, error) {
	if failed, err := s.wait(); err != nil {
		return failed, err
	}
	if s.hr.m == nil {
		return "", nil
	}
	w, err := s.hr.m.snapshot(s.hr.r.opts.StateDir)
	if err != nil {
		return step, err
	}
	done := make(chan struct{})
	s.done, s.step = done, step
	go func() {
		defer close(done)
		s.err = s.hr.put(w, lockReq{})
	}()
	return step, nil
}

// wait waits for the save in flight, if any, and returns its error with the
// step it recorded.
func (s *saver) wait() (Step, error) {
	if s.done != nil {
		<-s.done
		s.done = nil
	}
	return s.step, s.err
}

// saveOther saves m, the manifest of another run than this one (a run
// whose lock was taken from it), as this run's own saves are written.
func (hr *hostRun) saveOther(m *Manifest) error {
	w, err := m.snapshot(hr.r.opts.StateDir)
	if err != nil {
		return err
	}
	return hr.put(w, lockReq{})
}
