package fleet

import (
	"context"
	"time"
)

// A host run's record: the manifest on the host (and its local copy), and
// the host's lock, taken by the first save and released by the last, each
// in the same session as the save.

// manifestTimeout bounds one manifest save. Saves run detached from the
// run's cancellation: a step that succeeded must not go unrecorded because
// the operator pressed Ctrl-C just after it.
const manifestTimeout = 30 * time.Second

// lock takes the host's lock: with the first save of the manifest when the
// run keeps one (nothing is written if another run holds the lock), else on
// its own.
func (hr *hostRun) lock(ctx context.Context) error {
	var err error
	if hr.m != nil {
		err = hr.write(takeLock)
	} else {
		err = lockHost(ctx, hr.h, hr.r.runID)
	}
	hr.locked = err == nil
	return err
}

// release writes the manifest's final state (state "" keeps the one it
// has) and releases the host's lock in the same session; a run without a
// manifest only releases the lock. It does nothing when the run does not
// hold the lock.
func (hr *hostRun) release(state string) error {
	if !hr.locked {
		return nil
	}
	hr.locked = false
	if hr.m == nil {
		unlockHost(hr.ctx, hr.h, hr.r.runID)
		return nil
	}
	if state != "" {
		hr.m.State = state
	}
	if err := hr.write(releaseLock); err != nil {
		unlockHost(hr.ctx, hr.h, hr.r.runID) // the lock at least
		return err
	}
	return nil
}

// write saves the manifest now, after the save in flight (whose error is
// the caller's to collect with saves.wait), taking or releasing the lock.
func (hr *hostRun) write(lock lockAction) error {
	_, _ = hr.saves.wait()
	w, err := hr.m.snapshot(hr.r.opts.StateDir)
	if err != nil {
		return err
	}
	return hr.put(w, lock)
}

// put writes a manifest snapshot, detached, with a timeout of its own.
func (hr *hostRun) put(w *manifestWrite, lock lockAction) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(hr.ctx), manifestTimeout)
	defer cancel()
	return w.write(ctx, hr.h, lock, hr.r.runID)
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
		s.err = s.hr.put(w, noLock)
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
