package tui

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
)

// sessionInventory is two hosts, one at a time after canary canaries,
// whose failures halt the run only at a canary: else only the operator does.
func sessionInventory(t *testing.T, canary int) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Parse("inventory.yaml", []byte(`rollout:
  canary: `+strconv.Itoa(canary)+`
  batch: 1
  max_parallel: 1
  failure_budget: 100%
hosts:
  - {name: a, address: 10.0.0.1}
  - {name: b, address: 10.0.0.2}
services:
  - unit: smart-proxy.service
`))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

var errRefused = errors.New("connection refused")

// refused is a dialer whose every host refuses the connection.
func refused(context.Context, inventory.Target) (fleet.Host, error) { return nil, errRefused }

// dialLog records the hosts dialed, for a dialer that first calls hook.
type dialLog struct {
	mu    sync.Mutex
	hosts []string
	hook  func(ctx context.Context, t inventory.Target) error
}

func (d *dialLog) dial(ctx context.Context, t inventory.Target) (fleet.Host, error) {
	d.mu.Lock()
	d.hosts = append(d.hosts, t.Name)
	d.mu.Unlock()
	if d.hook != nil {
		if err := d.hook(ctx, t); err != nil {
			return nil, err
		}
	}
	return nil, errRefused
}

// holdA is a dialer that holds host a's connect: dialing is closed once
// it started, and it goes on (refused) once release is closed.
func holdA() (d *dialLog, dialing, release chan struct{}) {
	dialing, release = make(chan struct{}), make(chan struct{})
	d = &dialLog{hook: func(_ context.Context, t inventory.Target) error {
		if t.Name == "a" {
			close(dialing)
			<-release
		}
		return nil
	}}
	return d, dialing, release
}

func (d *dialLog) dialed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.hosts...)
}

func newTestSession(t *testing.T, dial fleet.Dialer, halt <-chan struct{}) *Session {
	t.Helper()
	return newCanarySession(t, 0, dial, halt)
}

func newCanarySession(t *testing.T, canary int, dial fleet.Dialer, halt <-chan struct{}) *Session {
	t.Helper()
	inv := sessionInventory(t, canary)
	return NewSession(context.Background(), fleet.Options{Inventory: inv, Targets: inv.Hosts, Dial: dial,
		RunID: "20261124_213045", Halt: halt})
}

// eventLog is a Reporter that keeps what it is given.
type eventLog struct {
	mu     sync.Mutex
	events []fleet.Event
}

func (r *eventLog) Report(e fleet.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// has reports whether an event of host, step and phase came.
func (r *eventLog) has(host string, step fleet.Step, phase fleet.Phase) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Host == host && e.Step == step && e.Phase == phase {
			return true
		}
	}
	return false
}

func statuses(s *fleet.Summary) map[string]fleet.Status {
	m := map[string]fleet.Status{}
	for _, h := range s.Hosts {
		m[h.Host] = h.Status
	}
	return m
}

// ended waits for the run to end (Wait would halt it).
func ended(s *Session) {
	for s.Running() {
		time.Sleep(time.Millisecond)
	}
}

func TestSessionRunsToTheEnd(t *testing.T) {
	s := newTestSession(t, refused, nil)
	s.Start()
	s.Start() // a second Start starts nothing more
	// The TUI reads the stream up to the run's end; Wait hands on the rest.
	var rec eventLog
	for e := range s.Events() {
		rec.Report(e)
		if e.Host == "" && e.Step == fleet.StepRun && e.Phase == fleet.PhaseDone {
			break
		}
	}
	ended(s)
	sum, err := s.Wait(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(sum); got["a"] != fleet.StatusFailed || got["b"] != fleet.StatusFailed || sum.Halted {
		t.Errorf("summary %+v, want both failed, not halted", sum.Hosts)
	}
	if !s.Started() || s.Running() || s.Aborted() {
		t.Errorf("started %v running %v aborted %v, want true false false", s.Started(), s.Running(), s.Aborted())
	}
	for _, want := range []struct {
		host  string
		step  fleet.Step
		phase fleet.Phase
	}{{"", fleet.StepRun, fleet.PhaseStart}, {"a", fleet.StepConnect, fleet.PhaseFail}, {"b", fleet.StepConnect, fleet.PhaseFail}, {"", fleet.StepRun, fleet.PhaseDone}} {
		if !rec.has(want.host, want.step, want.phase) {
			t.Errorf("no %s %s %s event among %d", want.host, want.step, want.phase, len(rec.events))
		}
	}
	if _, open := <-s.Events(); open {
		t.Error("the event stream is still open after Wait")
	}
}

func TestSessionNotStarted(t *testing.T) {
	d := &dialLog{}
	s := newTestSession(t, d.dial, nil)
	s.Rollback("nosuchhost", "")
	sum, err := s.Wait(nil)
	if sum != nil || err != nil || s.Started() || s.Aborted() {
		t.Errorf("Wait = %v, %v; started %v aborted %v: want nothing run", sum, err, s.Started(), s.Aborted())
	}
	s.Start() // after Wait: nothing starts
	s.Rollback("a", "")
	if got := d.dialed(); len(got) != 0 {
		t.Errorf("dialed %v after Wait", got)
	}
}

func TestSessionAbortStartsNoNewHost(t *testing.T) {
	for _, tt := range []struct {
		name  string
		abort func(s *Session, outside chan struct{})
	}{
		{"Abort", func(s *Session, _ chan struct{}) { s.Abort() }},
		{"outside halt", func(_ *Session, outside chan struct{}) { close(outside) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			outside := make(chan struct{})
			d, dialing, release := holdA()
			s := newTestSession(t, d.dial, outside)
			s.Start()
			<-dialing
			tt.abort(s, outside)
			// The abort reaches the session before host a's connect ends.
			for !s.Aborted() {
				time.Sleep(time.Millisecond)
			}
			close(release)
			sum, err := s.Wait(nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := statuses(sum); got["a"] != fleet.StatusFailed || got["b"] != fleet.StatusNotStarted || !sum.Halted {
				t.Errorf("summary %+v halted %v, want a failed, b not started, halted", sum.Hosts, sum.Halted)
			}
			if got := d.dialed(); len(got) != 1 {
				t.Errorf("dialed %v, want only a", got)
			}
		})
	}
}

func TestSessionStopCancelsTheStep(t *testing.T) {
	dialing := make(chan struct{})
	d := &dialLog{hook: func(ctx context.Context, _ inventory.Target) error {
		close(dialing)
		<-ctx.Done()
		return ctx.Err()
	}}
	s := newTestSession(t, d.dial, nil)
	s.Start()
	<-dialing
	s.Stop()
	sum, err := s.Wait(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(sum); got["a"] != fleet.StatusCancelled || got["b"] != fleet.StatusNotStarted || !s.Aborted() {
		t.Errorf("summary %+v aborted %v, want a cancelled, b not started, aborted", sum.Hosts, s.Aborted())
	}
}

func TestSessionWaitHaltsARunStillGoing(t *testing.T) {
	d, dialing, release := holdA()
	s := newTestSession(t, d.dial, nil)
	s.Start()
	<-dialing
	if !s.Running() {
		t.Fatal("not running while host a dials")
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		close(release)
	}()
	sum, err := s.Wait(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The TUI ending is no operator's abort: the exit is the hosts'.
	if got := statuses(sum); got["b"] != fleet.StatusNotStarted || s.Aborted() {
		t.Errorf("summary %+v aborted %v, want b not started, not aborted", sum.Hosts, s.Aborted())
	}
}

func TestSessionRollbackIsFolded(t *testing.T) {
	s := newTestSession(t, refused, nil)
	s.Start()
	ended(s)
	s.Rollback("b", "")
	var rec eventLog
	sum, err := s.Wait(&rec)
	if err != nil {
		t.Fatal(err)
	}
	b := sum.Hosts[1]
	if b.Status != fleet.StatusFailed || b.Step != fleet.StepRollback || !strings.HasPrefix(b.Error, "rollback: ") {
		t.Errorf("b after a failed rollback: %+v", b)
	}
	if a := sum.Hosts[0]; a.Step != fleet.StepConnect {
		t.Errorf("a, not rolled back: %+v", a)
	}
	if !rec.has("b", fleet.StepRollback, fleet.PhaseFail) {
		t.Error("no rollback fail event for b")
	}
}

func TestSessionStepPanicFailsItsHost(t *testing.T) {
	// A panic in a host's step (here its dial) is that host's failure, an
	// internal error, not the end of the session: the canary fails and the
	// run halts before the next host, as for any canary failure.
	s := newCanarySession(t, 1, func(context.Context, inventory.Target) (fleet.Host, error) { panic("boom") }, nil)
	s.Start()
	ended(s)
	var rec eventLog
	sum, err := s.Wait(&rec)
	if err != nil || sum == nil {
		t.Fatalf("Wait = %v, %v; want the run's summary", sum, err)
	}
	if a := sum.Hosts[0]; a.Status != fleet.StatusFailed || a.Step != fleet.StepConnect || !strings.Contains(a.Error, "internal error at connect: boom") {
		t.Errorf("canary after a panic in its dial: %+v", a)
	}
	if b := sum.Hosts[1]; b.Status != fleet.StatusNotStarted || !sum.Halted {
		t.Errorf("after the canary's panic: b %s, halted %v; want not started, halted", b.Status, sum.Halted)
	}
	if !rec.has("a", fleet.StepConnect, fleet.PhaseFail) {
		t.Error("no connect fail event for a")
	}
}

func TestFoldRollbacks(t *testing.T) {
	tests := []struct {
		name string
		rb   fleet.HostResult
		want fleet.HostResult
	}{
		{"rolled back", fleet.HostResult{Host: "h", Status: fleet.StatusRolledBack},
			fleet.HostResult{Host: "h", Status: fleet.StatusRolledBack}},
		{"failed", fleet.HostResult{Host: "h", Status: fleet.StatusFailed, Error: "h: rollback: no manifest"},
			fleet.HostResult{Host: "h", Status: fleet.StatusFailed, Step: fleet.StepRollback, Error: "rollback: h: rollback: no manifest"}},
		{"nothing to do", fleet.HostResult{Host: "h", Status: fleet.StatusNotStarted},
			fleet.HostResult{Host: "h", Status: fleet.StatusFailed, Step: fleet.StepRestart, Error: "unhealthy"}},
	}
	for _, tt := range tests {
		s := &fleet.Summary{Hosts: []fleet.HostResult{{Host: "h", Status: fleet.StatusFailed, Step: fleet.StepRestart, Error: "unhealthy"}, {Host: "other", Status: fleet.StatusOK}}}
		foldRollbacks(s, map[string]fleet.HostResult{"h": tt.rb})
		if s.Hosts[0].Status != tt.want.Status || s.Hosts[0].Step != tt.want.Step || s.Hosts[0].Error != tt.want.Error || s.Hosts[1].Status != fleet.StatusOK {
			t.Errorf("%s: %+v, want %+v", tt.name, s.Hosts, tt.want)
		}
	}
}

// count counts the events of host, step and phase.
func (r *eventLog) count(host string, step fleet.Step, phase fleet.Phase) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Host == host && e.Step == step && e.Phase == phase {
			n++
		}
	}
	return n
}

// A run or a rollback that cannot start is reported once by the engine:
// the run's error from Wait, the rollback's folded into the summary and
// told on its host's row.
func TestSessionCannotStart(t *testing.T) {
	t.Run("the run", func(t *testing.T) {
		s := newTestSession(t, nil, nil) // no dialer: the engine refuses the run
		s.Start()
		ended(s)
		var rec eventLog
		sum, err := s.Wait(&rec)
		if sum != nil || err == nil || rec.count("", fleet.StepRun, fleet.PhaseFail) != 1 {
			t.Errorf("Wait = %v, %v; %d run fail event(s), want the engine's one", sum, err, rec.count("", fleet.StepRun, fleet.PhaseFail))
		}
	})
	t.Run("a rollback", func(t *testing.T) {
		s := newTestSession(t, refused, nil)
		s.Start()
		ended(s)
		s.Rollback("b", "not-a-run-id")
		var rec eventLog
		sum, err := s.Wait(&rec)
		if err != nil {
			t.Fatal(err)
		}
		if b := sum.Hosts[1]; b.Status != fleet.StatusFailed || b.Step != fleet.StepRollback || !strings.Contains(b.Error, `run id "not-a-run-id"`) {
			t.Errorf("b after a rollback that could not start: %+v", b)
		}
		// The engine's run-wide one, and b's, which ends its row's
		// rolling back (TestSessionRollbackThatCannotStart).
		if run, host := rec.count("", fleet.StepRollback, fleet.PhaseFail), rec.count("b", fleet.StepRollback, fleet.PhaseFail); run != 1 || host != 1 {
			t.Errorf("%d run-wide and %d host rollback fail event(s), want one each", run, host)
		}
	})
}

// A rollback started from the session streams its own run-wide events
// (under the rollback step) beside the run's: folded into the screen's
// state they neither start nor end the session's run, and the host shows
// its rollback.
func TestSessionRollbackStreamLeavesTheRunGoing(t *testing.T) {
	inv := sessionInventory(t, 0)
	dial := func(context.Context, inventory.Target) (fleet.Host, error) { return nil, errRefused }
	var rec eventLog
	_, _ = fleet.Rollback(context.Background(), fleet.RollbackOptions{Inventory: inv, Targets: inv.Hosts[1:], Dial: dial, Reporter: &rec})
	st := NewRunState([]HostRow{{Name: "a"}, {Name: "b"}}, nil)
	st.Apply(fleet.Event{Step: fleet.StepRun, Phase: fleet.PhaseStart, Batch: -1})
	for _, e := range rec.events {
		st.Apply(e)
	}
	if st.Finished || st.Failed {
		t.Errorf("the rollback's events ended the session's run: finished %v failed %v", st.Finished, st.Failed)
	}
	if b := st.Host("b"); b.Status != StatusRollbackFailed {
		t.Errorf("b %s, want its rollback failed", b.Status)
	}
}

// TestSessionRollbackThatCannotStart: a rollback fleet cannot start (here
// an artifact gone since the run) ends the host's rolling back on its row
// and in the summary, not only in the run's log.
func TestSessionRollbackThatCannotStart(t *testing.T) {
	s := newTestSession(t, refused, nil)
	s.Start()
	ended(s)
	svc := &s.opts.Inventory.Services[0]
	svc.Artifacts = append(svc.Artifacts, inventory.Artifact{Src: filepath.Join(t.TempDir(), "gone"), Dest: "/usr/local/bin/smart-proxy"})
	s.Rollback("b", "")
	var rec eventLog
	sum, err := s.Wait(&rec)
	if err != nil {
		t.Fatal(err)
	}
	if b := sum.Hosts[1]; b.Status != fleet.StatusFailed || b.Step != fleet.StepRollback {
		t.Errorf("b after a rollback that could not start: %+v", b)
	}
	st := NewRunState([]HostRow{{Name: "a"}, {Name: "b"}}, nil)
	st.Host("b").Status = StatusRollingBack // as the TUI marks it on "r"
	for _, e := range rec.events {
		st.Apply(e)
	}
	if b := st.Host("b"); b.Status != StatusRollbackFailed || b.Error == "" {
		t.Errorf("b's row %s (%q), want its rollback failed with the cause", b.Status, b.Error)
	}
}
