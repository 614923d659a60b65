package tui

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
)

// rollbackTimeout bounds a host's rollback started from the TUI, as the
// rollback command's default does.
const rollbackTimeout = 5 * time.Minute

// Session is an interactive rollout: the run the TUI starts and steers and
// the rollbacks of single hosts started from it. Its methods are the TUI's
// Controls and Events its event stream. It owns the run's halt channel and
// goroutine, and turns an engine panic into the run's error: a panic must
// not kill the process with the terminal in raw mode.
type Session struct {
	ctx                context.Context // the command's; rollbacks are detached from its cancellation
	opts               fleet.Options   // with the session's reporter, halt and pause
	events             <-chan fleet.Event
	closeEvents        func()
	halt               chan struct{}
	haltOnce           sync.Once
	runCtx             context.Context
	stopNow            context.CancelFunc
	paused, aborted    atomic.Bool
	runDone, watchDone chan struct{}
	work               sync.WaitGroup // the run and every rollback
	mu                 sync.Mutex
	started, waiting   bool
	sum                *fleet.Summary
	err                error
	rollbacks          map[string]fleet.HostResult
}

// NewSession prepares the rollout o, not started yet. o.Halt, when closed
// (a Ctrl-C or SIGTERM that reached the process), is the operator's
// graceful abort, as Abort is. o.Reporter, o.Pause are the session's own.
func NewSession(ctx context.Context, o fleet.Options) *Session {
	if o.RunID == "" {
		o.RunID = fleet.NewRunID(time.Now())
	}
	s := &Session{ctx: ctx, halt: make(chan struct{}), runDone: make(chan struct{}), watchDone: make(chan struct{}),
		rollbacks: map[string]fleet.HostResult{}}
	rep, events, closeEvents := NewQueue()
	s.events, s.closeEvents = events, closeEvents
	s.runCtx, s.stopNow = context.WithCancel(ctx)
	outside := o.Halt
	o.Reporter, o.Halt, o.Pause = rep, s.halt, s.paused.Load
	s.opts = o
	go func() {
		select {
		case <-outside:
			s.Abort()
		case <-s.watchDone:
		}
	}()
	return s
}

// Events is the stream of the run's and the rollbacks' events, closed by
// Wait once they are all over.
func (s *Session) Events() <-chan fleet.Event { return s.events }

// Controls are the session's methods as the TUI's Controls.
func (s *Session) Controls() Controls {
	return Controls{Start: s.Start, Pause: s.Pause, Abort: s.Abort, Stop: s.Stop, Rollback: s.Rollback}
}

// RunID is the run's id.
func (s *Session) RunID() string { return s.opts.RunID }

// Start starts the rollout, once; it does not block. After Wait it does
// nothing.
func (s *Session) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.waiting {
		return
	}
	s.started = true
	s.work.Add(1)
	go s.run()
}

func (s *Session) run() {
	defer s.work.Done()
	defer close(s.runDone)
	defer func() {
		if p := recover(); p != nil {
			// The engine did not get to report it: the stream is told here.
			s.end(nil, fmt.Errorf("engine panic: %v\n%s", p, debug.Stack()))
			s.opts.Reporter.Report(fleet.Event{Time: time.Now(), Step: fleet.StepRun, Phase: fleet.PhaseFail, Batch: -1, Message: "engine panic: " + fmt.Sprint(p)})
		}
	}()
	// An error that keeps the run from starting is on the stream already,
	// as the run's fail event.
	s.end(fleet.Rollout(s.runCtx, s.opts))
}

// end records the run's outcome: its summary, or the error that ended it.
func (s *Session) end(sum *fleet.Summary, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sum, s.err = sum, err
}

// Pause holds (true) or releases (false) the hosts not yet started.
func (s *Session) Pause(paused bool) { s.paused.Store(paused) }

// Abort is the operator's graceful abort: no new host starts, hosts in
// flight stop at their next step boundary.
func (s *Session) Abort() {
	s.aborted.Store(true)
	s.haltRun()
}

// Stop is the operator's stop now: Abort, and the steps in flight are
// cancelled.
func (s *Session) Stop() {
	s.Abort()
	s.stopNow()
}

func (s *Session) haltRun() { s.haltOnce.Do(func() { close(s.halt) }) }

// Aborted reports whether the operator aborted the run (Abort, Stop, or
// the outside halt): the command then exits as interrupted.
func (s *Session) Aborted() bool { return s.aborted.Load() }

// Started reports whether Start started the run.
func (s *Session) Started() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// Running reports whether the run started and has not ended.
func (s *Session) Running() bool {
	if !s.Started() {
		return false
	}
	select {
	case <-s.runDone:
		return false
	default:
		return true
	}
}

// Rollback rolls host back, asynchronously, undoing the run runID ("": the
// session's run). It runs detached from the command's cancellation, as the
// rollback command does: a rollback cut off half-way would leave a mixed
// host. Its events come on the same stream and its outcome is folded into
// Wait's summary. An unknown host, or a call after Wait, does nothing.
func (s *Session) Rollback(host, runID string) {
	i := slices.IndexFunc(s.opts.Targets, func(t inventory.Target) bool { return t.Name == host })
	if i < 0 {
		return
	}
	if runID == "" {
		runID = s.opts.RunID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting {
		return
	}
	s.work.Add(1)
	go s.rollback(s.opts.Targets[i], runID)
}

func (s *Session) rollback(t inventory.Target, runID string) {
	defer s.work.Done()
	failed := func(msg string) fleet.HostResult {
		return fleet.HostResult{Host: t.Name, Status: fleet.StatusFailed, Step: fleet.StepRollback, Error: msg}
	}
	defer func() {
		if p := recover(); p != nil {
			// The engine did not get to report it: the stream is told here.
			msg := fmt.Sprintf("rollback panic: %v", p)
			s.opts.Reporter.Report(fleet.Event{Time: time.Now(), Host: t.Name, Step: fleet.StepRollback, Phase: fleet.PhaseFail, Batch: -1, Message: msg})
			s.recordRollback(failed(msg))
		}
	}()
	o := s.opts
	sum, err := fleet.Rollback(context.WithoutCancel(s.ctx), fleet.RollbackOptions{Inventory: o.Inventory, Targets: []inventory.Target{t},
		Dial: o.Dial, Reporter: o.Reporter, RunID: runID, StateDir: o.StateDir, Timeout: rollbackTimeout})
	if err != nil {
		// On the stream already as the rollback's run-wide fail; the
		// host's row, which the TUI marked rolling back, is told too.
		r := failed(err.Error())
		s.opts.Reporter.Report(fleet.Event{Time: time.Now(), Host: t.Name, Step: fleet.StepRollback, Phase: fleet.PhaseFail, Batch: -1, Message: r.Error, Result: &r})
		s.recordRollback(r)
		return
	}
	s.recordRollback(sum.Hosts[0])
}

func (s *Session) recordRollback(r fleet.HostResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollbacks[r.Host] = r
}

// Wait is called once, when the TUI has ended: a run still going is halted
// gracefully (not counted as the operator's abort); every event still to
// come goes to rest (nil: dropped) as it comes; Wait returns when the run
// and the rollbacks are over and the stream is closed. It returns the run's
// summary with the rollbacks folded in, nil when the run never started, or
// the run's error.
func (s *Session) Wait(rest fleet.Reporter) (*fleet.Summary, error) {
	s.mu.Lock()
	s.waiting = true
	s.mu.Unlock()
	defer close(s.watchDone)
	defer s.stopNow()
	if s.Running() {
		s.haltRun()
	}
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for e := range s.events {
			if rest != nil {
				rest.Report(e)
			}
		}
	}()
	s.work.Wait()
	s.closeEvents()
	<-forwarded
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	if s.sum != nil {
		foldRollbacks(s.sum, s.rollbacks)
	}
	return s.sum, nil
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
