package fleet

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
)

// recorder keeps every event a run emits.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Report(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// trail is the host's events as "step:phase", in order.
func (r *recorder) trail(host string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, e := range r.events {
		if e.Host == host && e.Phase != PhaseInfo {
			s = append(s, string(e.Step)+":"+string(e.Phase))
		}
	}
	return strings.Join(s, " ")
}

// rollOne rolls out to one scripted host, without the reboot.
func rollOne(t *testing.T, h *scriptedHost, halt <-chan struct{}) (HostResult, *recorder) {
	t.Helper()
	return rollOneWith(t, h, halt, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1})
}

// rollOneWith is rollOne under policy p.
func rollOneWith(t *testing.T, h *scriptedHost, halt <-chan struct{}, p inventory.Policy) (HostResult, *recorder) {
	t.Helper()
	inv := fakeInventory(t, 1, p)
	rec := &recorder{}
	s, err := Rollout(context.Background(), Options{Inventory: inv, Reporter: rec, Halt: halt,
		Dial: func(context.Context, inventory.Target) (Host, error) { return h, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s.Hosts[0], rec
}

func TestRolloutFlowOnAScriptedHost(t *testing.T) {
	h := outdatedHost("h1")
	res, rec := rollOne(t, h, nil)
	if res.Status != StatusOK || res.Changed != 1 || res.Step != "" {
		t.Fatalf("result %+v\n%s", res, rec.trail("h1"))
	}
	wantTrail := "connect:start connect:done preflight:start preflight:done backup:start backup:done push:start push:done " +
		"dropin:start dropin:done reload:start reload:done restart:start restart:done run:done"
	if got := rec.trail("h1"); got != wantTrail {
		t.Errorf("events\n got %s\nwant %s", got, wantTrail)
	}
	// The push's record is saved beside the next steps: it may land
	// anywhere between the upload and the final save.
	got := h.received()
	commands := slices.DeleteFunc(slices.Clone(got), func(n string) bool { return n == "save-manifest" })
	if want := []string{"preflight", "backup", "upload", "reload", "restart", "health", "restart-journal"}; !slices.Equal(commands, want) {
		t.Errorf("host received %v, want the commands %v", got, want)
	}
	if got[1] != "save-manifest" || got[len(got)-1] != "save-manifest" {
		t.Errorf("host received %v: want the manifest saved before the backup and last", got)
	}
	ms, locks, err := h.saves()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(locks, ","); got != "lock,,unlock" {
		t.Errorf("saves' lock actions %q: want the first to take the lock and the last to release it", got)
	}
	last := ms[len(ms)-1]
	if last.State != StateComplete || !last.Changes[0].Done {
		t.Errorf("final manifest: state %s, change done %v", last.State, last.Changes[0].Done)
	}
	var steps []Step
	for _, s := range last.Steps {
		steps = append(steps, s.Step)
	}
	if want := []Step{StepPreflight, StepBackup, StepPush, StepDropIn, StepReload, StepRestart}; !slices.Equal(steps, want) {
		t.Errorf("manifest records steps %v, want %v", steps, want)
	}
}

// flowFailure is a host that fails one step of the rollout flow.
type flowFailure struct {
	name    string
	change  func(h *scriptedHost)
	step    Step
	errText string
	// state is the manifest's final state; "" means the run never
	// saved one (it failed before it held the lock).
	state string
}

func TestRolloutFlowFailures(t *testing.T) {
	for _, tt := range flowFailures() {
		t.Run(tt.name, func(t *testing.T) { checkFlowFailure(t, tt) })
	}
}

func flowFailures() []flowFailure {
	return []flowFailure{
		{name: "a lock another run holds fails the preflight, nothing written",
			change: func(h *scriptedHost) {
				h.answers["save-manifest"] = fails("lock held by run 20990101_000000 from elsewhere pid 1", lockedStatus)
			},
			step: StepPreflight, errText: "held by another run"},
		{name: "a step that panics fails its host, the process goes on",
			change: func(h *scriptedHost) {
				h.answers["reload"] = func(call) ([]byte, error) { panic("boom") }
			},
			step: StepReload, errText: "internal error at reload: boom (a bug in fleetfix", state: StateFailed},
		{name: "the backup fails",
			change: func(h *scriptedHost) { h.answers["backup"] = fails("", 4) },
			step:   StepBackup, errText: "back up: exited with status 4", state: StateFailed},
		{name: "the pushed file's checksum is not what was sent",
			change: func(h *scriptedHost) {
				h.upload = func(string, []byte) (string, error) { return "0123456789abcdef", nil }
			},
			step: StepPush, errText: "host has sha256 0123456789ab", state: StateFailed},
		{name: "daemon-reload answers for fewer units",
			change: func(h *scriptedHost) { h.answers["reload"] = ok("") },
			step:   StepReload, errText: "0 unit answers for 1 units", state: StateFailed},
		{name: "the restarted unit is not healthy",
			change: func(h *scriptedHost) { h.answers["health"] = fails("demo.service: inactive", 1) },
			step:   StepRestart, errText: "demo.service not healthy 15s after start: demo.service: inactive", state: StateFailed},
		{name: "the push's record fails to save: blamed on the run, not on the push that reported done",
			change: func(h *scriptedHost) {
				n := 0
				h.answers["save-manifest"] = func(call) ([]byte, error) {
					if n++; n == 2 {
						return nil, errors.New("connection lost")
					}
					return nil, nil
				}
			},
			step: StepRun, errText: "write manifest: connection lost", state: StateFailed},
		{name: "the final save fails: blamed on the run, not on the restart that reported done",
			change: func(h *scriptedHost) {
				h.answers["save-manifest"] = func(c call) ([]byte, error) {
					if len(c.args) > 2 && c.args[2] == "unlock" {
						return nil, errors.New("connection lost")
					}
					return nil, nil
				}
			},
			step: StepRun, errText: "write manifest: connection lost", state: StateComplete},
	}
}

// TestFinalSaveFailureIsTheRuns: a final save that fails after every step
// reported done is the run's failure, under each on_failure: the host is
// not rolled back for it (its steps all succeeded), and no step that
// reported done is reported failed after it.
func TestFinalSaveFailureIsTheRuns(t *testing.T) {
	for _, onFailure := range []inventory.OnFailure{inventory.OnFailureStop, inventory.OnFailureRollback} {
		t.Run(string(onFailure), func(t *testing.T) {
			h := outdatedHost("h1")
			h.answers["save-manifest"] = func(c call) ([]byte, error) {
				if len(c.args) > 2 && c.args[2] == "unlock" {
					return nil, errors.New("connection lost")
				}
				return nil, nil
			}
			res, rec := rollOneWith(t, h, nil, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1, OnFailure: onFailure})
			var he *HostError
			if res.Status != StatusFailed || res.Step != StepRun || !errors.As(res.Err(), &he) || he.Step != StepRun {
				t.Fatalf("result %s at %s (%v), want failed at run\n%s", res.Status, res.Step, res.Err(), rec.trail("h1"))
			}
			if trail := rec.trail("h1"); !strings.HasSuffix(trail, "restart:done run:fail") || strings.Contains(trail, "rollback") {
				t.Errorf("events %s: want the restart done, then the run's failure, no rollback", trail)
			}
			if slices.Contains(h.received(), "restore") {
				t.Errorf("host received %v: a host whose steps all succeeded was undone", h.received())
			}
		})
	}
}

// TestRecordFailureMidRunIsUndone: a write step's record that fails to
// save while steps are still to run fails the run, not the step that
// reported done, and leaves the host half changed: with on_failure:
// rollback it is undone as a failure at that step would be. The service
// has a drop-in, so the push's record's failure surfaces at the drop-in's.
func TestRecordFailureMidRunIsUndone(t *testing.T) {
	h := outdatedHost("h1")
	n := 0
	h.answers["save-manifest"] = func(call) ([]byte, error) {
		if n++; n == 2 { // the lock's, then the push's record
			return nil, errors.New("connection lost")
		}
		return nil, nil
	}
	h.answers["systemctl"] = ok("") // the undo's daemon-reload
	inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1, OnFailure: inventory.OnFailureRollback})
	inv.Services[0].DropIn = inventory.DropIn{Name: "override.conf", Section: "Service", Settings: []inventory.Setting{{Key: "Nice", Value: "5"}}}
	rec := &recorder{}
	s, err := Rollout(context.Background(), Options{Inventory: inv, Reporter: rec,
		Dial: func(context.Context, inventory.Target) (Host, error) { return h, nil }})
	if err != nil {
		t.Fatal(err)
	}
	res, trail := s.Hosts[0], rec.trail("h1")
	if res.Status != StatusRolledBack || res.Step != StepRun {
		t.Fatalf("result %s at %s (%v), want rolled back, failed at run\n%s", res.Status, res.Step, res.Err(), trail)
	}
	if !strings.Contains(trail, "dropin:done rollback:start rollback:done run:fail") || strings.Contains(trail, "reload") || strings.Contains(trail, "push:fail") {
		t.Errorf("events %s: want the push and drop-in done, the undo, then the run's failure", trail)
	}
	// The run stopped before its restart: a health check is the undo's.
	if got := h.received(); !slices.Contains(got, "health") {
		t.Errorf("host received %v: want the undo's daemon-reload and health check", got)
	}
}

// checkFlowFailure rolls tt's host out and checks the run failed at tt's
// step, with tt's error, leaving the manifest in tt's state.
func checkFlowFailure(t *testing.T, tt flowFailure) {
	t.Helper()
	h := outdatedHost("h1")
	tt.change(h)
	res, rec := rollOne(t, h, nil)
	var he *HostError
	if res.Status != StatusFailed || res.Step != tt.step || !errors.As(res.Err(), &he) || he.Step != tt.step || he.Host != "h1" {
		t.Fatalf("result %s at %s (%v), want failed at %s\n%s", res.Status, res.Step, res.Err(), tt.step, rec.trail("h1"))
	}
	if !strings.Contains(res.Error, tt.errText) {
		t.Errorf("error %q, want %q in it", res.Error, tt.errText)
	}
	if !strings.HasSuffix(rec.trail("h1"), string(tt.step)+":fail") {
		t.Errorf("the host's last event is not its step's failure: %s", rec.trail("h1"))
	}
	ms, locks, err := h.saves()
	if err != nil {
		t.Fatal(err)
	}
	if tt.state == "" {
		if slices.Contains(h.received(), "backup") || slices.Contains(h.received(), "upload") {
			t.Errorf("changed the host without the lock: %v", h.received())
		}
		return
	}
	if last := ms[len(ms)-1]; last.State != tt.state || locks[len(locks)-1] != "unlock" {
		t.Errorf("last save: state %s lock %q, want %s and the lock released", last.State, locks[len(locks)-1], tt.state)
	}
}

func TestHaltAfterPreflightChangesNothing(t *testing.T) {
	h := outdatedHost("h1")
	halt := make(chan struct{})
	h.answers["preflight"] = func(p answer) answer {
		return func(c call) ([]byte, error) {
			close(halt) // the operator aborts while the host is read
			return p(c)
		}
	}(h.answers["preflight"])
	res, rec := rollOne(t, h, halt)
	if res.Status != StatusHalted || res.Step != StepBackup {
		t.Fatalf("result %s at %s, want halted at backup\n%s", res.Status, res.Step, rec.trail("h1"))
	}
	if got := h.received(); !slices.Equal(got, []string{"preflight"}) {
		t.Errorf("host received %v after the halt, want only the preflight (no lock, no manifest)", got)
	}
}

func TestRollbackFlow(t *testing.T) {
	inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1})
	run := func(h *scriptedHost) (HostResult, *recorder) { return rollBackOne(t, h) }
	t.Run("no run to roll back", func(t *testing.T) {
		h := &scriptedHost{name: "h1", answers: map[string]answer{"lock": ok(""), "unlock": ok(""), "list-runs": ok("")}}
		res, rec := run(h)
		if res.Status != StatusUnchanged || rec.trail("h1") != "rollback:start rollback:skip" {
			t.Errorf("result %s, events %s", res.Status, rec.trail("h1"))
		}
		if got := h.received(); !slices.Equal(got, []string{"lock", "list-runs", "unlock"}) {
			t.Errorf("host received %v", got)
		}
	})
	t.Run("a held lock fails the rollback", func(t *testing.T) {
		h := &scriptedHost{name: "h1", answers: map[string]answer{"lock": fails("held", lockedStatus)}}
		res, rec := run(h)
		if res.Status != StatusFailed || res.Step != StepRollback || !strings.Contains(res.Error, "held by another run") {
			t.Errorf("result %s at %s: %s\n%s", res.Status, res.Step, res.Error, rec.trail("h1"))
		}
		if got := h.received(); !slices.Equal(got, []string{"lock", "lock-show"}) {
			t.Errorf("host received %v after a held lock", got)
		}
	})
	t.Run("the run's upload temporaries are removed first", func(t *testing.T) {
		m := `{"schema":1,"run_id":"20261130_100000","host":"h1","state":"failed","resumed_by":["20261130_110000"],"changes":[{"path":"/usr/local/bin/demo","done":true}]}`
		h := &scriptedHost{name: "h1", answers: map[string]answer{"lock": ok(""), "unlock": ok(""),
			"list-runs": ok("20261130_100000.json\n"), "cat": ok(m), "clean-temps": ok("")}}
		_, _ = run(h) // the fake has no stat: the undo itself fails
		var args []string
		for _, c := range h.calls {
			if c.name == "clean-temps" {
				args = c.args
			}
		}
		if want := []string{"2", "20261130_100000", "20261130_110000", "/usr/local/bin/demo"}; !slices.Equal(args, want) {
			t.Errorf("clean-temps %q, want %q (host received %v)", args, want, h.received())
		}
	})
	t.Run("connect fails", func(t *testing.T) {
		rec := &recorder{}
		s, _ := Rollback(context.Background(), RollbackOptions{Inventory: inv, Reporter: rec,
			Dial: func(context.Context, inventory.Target) (Host, error) { return nil, errors.New("connection refused") }})
		if res := s.Hosts[0]; res.Status != StatusFailed || res.Step != StepRollback || res.Error != "connect: connection refused" || rec.trail("h1") != "rollback:start rollback:fail" {
			t.Errorf("result %+v, events %s", res, rec.trail("h1"))
		}
	})
	t.Run("halted while it connects: no lock, no change", func(t *testing.T) {
		halt := make(chan struct{})
		h := &scriptedHost{name: "h1", answers: map[string]answer{}}
		rec := &recorder{}
		s, err := Rollback(context.Background(), RollbackOptions{Inventory: inv, Reporter: rec, Halt: halt,
			Dial: func(context.Context, inventory.Target) (Host, error) { close(halt); return h, nil }})
		if err != nil {
			t.Fatal(err)
		}
		if res := s.Hosts[0]; res.Status != StatusHalted || res.Step != StepRollback || rec.trail("h1") != "rollback:start rollback:halted" || len(h.received()) != 0 {
			t.Errorf("result %+v, events %s, host received %v", res, rec.trail("h1"), h.received())
		}
	})
}

// Steps is the rollout's flow itself: the front ends show what runs.
func TestStepsFollowTheFlow(t *testing.T) {
	inv := fakeInventory(t, 1, inventory.DefaultPolicy())
	inv.Rollout.Reboot = true
	full := Steps(Options{Inventory: inv})
	if want := []Step{StepConnect, StepPreflight, StepBackup, StepPush, StepDropIn, StepReload, StepRestart, StepGuard, StepReboot, StepJournal, StepVerify, StepConfirm}; !slices.Equal(full, want) {
		t.Errorf("Steps = %v, want %v", full, want)
	}
	unguarded := *inv
	unguarded.Rollout.ConfirmTimeout = 0
	if got := Steps(Options{Inventory: &unguarded}); slices.Contains(got, StepGuard) || slices.Contains(got, StepConfirm) || got[len(got)-1] != StepVerify {
		t.Errorf("confirm_timeout 0: %v, want no guard", got)
	}
	var flowNames []Step
	for _, s := range rolloutFlow(Options{Inventory: inv}).steps {
		flowNames = append(flowNames, s.name)
	}
	if !slices.Equal(full, flowNames) {
		t.Errorf("Steps %v differ from the flow %v", full, flowNames)
	}
	if got := Steps(Options{Inventory: inv, NoReboot: true}); got[len(got)-1] != StepRestart {
		t.Errorf("without the reboot: %v", got)
	}
	if got := Steps(PlanOptions(Options{Inventory: inv, NoReboot: true})); got[len(got)-1] != StepDropIn {
		t.Errorf("a plan: %v", got)
	}
}

// TestCancelledStepIsNotAFailure: a step cut off by the operator's stop
// (the run's context cancelled) leaves the host cancelled, not failed: not
// counted against the budget, its run interrupted, the halt the operator's.
func TestCancelledStepIsNotAFailure(t *testing.T) {
	inv := fakeInventory(t, 2, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1})
	h1 := outdatedHost("h1")
	ctx, cancel := context.WithCancel(context.Background())
	h1.answers["health"] = func(call) ([]byte, error) {
		cancel() // the operator's second Ctrl-C while the unit restarts
		return nil, context.Canceled
	}
	rec := &recorder{}
	s, err := Rollout(ctx, Options{Inventory: inv, Reporter: rec, Dial: func(_ context.Context, t inventory.Target) (Host, error) {
		if t.Name == "h1" {
			return h1, nil
		}
		return outdatedHost(t.Name), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Hosts[0]; r.Status != StatusCancelled || r.Step != StepRestart || s.Failed() != 0 || s.Cancelled() != 1 || !s.Halted || s.OK() {
		t.Errorf("h1 %+v; failed %d cancelled %d halted %v", r, s.Failed(), s.Cancelled(), s.Halted)
	}
	if ms, _, _ := h1.saves(); ms[len(ms)-1].State != StateInterrupted {
		t.Errorf("manifest state %s, want %s", ms[len(ms)-1].State, StateInterrupted)
	}
	last := rec.events[len(rec.events)-1]
	if !strings.Contains(last.Message, "halted: stopped by the operator") || !strings.Contains(last.Message, "1 cancelled") || strings.Contains(last.Message, "budget") {
		t.Errorf("run's end: %q", last.Message)
	}
}

// A host that fails after a change is rolled back at once, over the same
// connection, and still counts as failed: a failed canary halts the run.
func TestFailureUndoesItself(t *testing.T) {
	const bin = "/usr/local/bin/demo"
	tests := []struct {
		name      string
		onFailure inventory.OnFailure
		lost      bool
		status    Status
		errText   []string
		file      string // the build at the end
		state     string // the manifest's last state
	}{
		{name: "rollback: files restored, rolled-back with the cause", onFailure: inventory.OnFailureRollback,
			status: StatusRolledBack, errText: []string{"failed at restart: demo.service not healthy 15s after start", "; rolled back in "},
			file: sum("old"), state: StateRolledBack},
		{name: "stop: left as it failed", onFailure: inventory.OnFailureStop,
			status: StatusFailed, errText: []string{"demo.service not healthy 15s after start"}, file: sum("new build"), state: StateFailed},
		{name: "rollback, but the connection is gone: left as it failed", onFailure: inventory.OnFailureRollback, lost: true,
			status: StatusFailed, errText: []string{"failed at restart: ", "; not rolled back: the connection to the host is gone"},
			file: sum("new build"), state: StateFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFilesHost(t, undoManifest(), map[string]string{bin: sum("old")})
			restarts := 0
			h.answers["health"] = func(call) ([]byte, error) {
				if restarts++; restarts == 1 {
					return []byte("unit is failed"), exitErr{status: 1}
				}
				return nil, nil // the old build starts
			}
			if tt.lost {
				h.lost = make(chan struct{})
				close(h.lost)
			}
			inv := fakeInventory(t, 2, inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 1}, MaxParallel: 1, OnFailure: tt.onFailure})
			rec := &recorder{}
			s, err := Rollout(context.Background(), Options{Inventory: inv, Reporter: rec,
				Dial: func(_ context.Context, tg inventory.Target) (Host, error) {
					if tg.Name != "h1" {
						t.Errorf("%s dialed after the canary failed", tg.Name)
					}
					return h, nil
				}})
			if err != nil {
				t.Fatal(err)
			}
			res := s.Hosts[0]
			if res.Status != tt.status || res.Step != StepRestart || !res.Failed() {
				t.Fatalf("h1 %s at %s (failed %v): %s\n%s", res.Status, res.Step, res.Failed(), res.Error, rec.trail("h1"))
			}
			for _, w := range tt.errText {
				if !strings.Contains(res.Error, w) {
					t.Errorf("error %q, want %q in it", res.Error, w)
				}
			}
			if s.Hosts[1].Status != StatusNotStarted || !s.Halted || s.Failed() != 1 || s.OK() {
				t.Errorf("run: %s halted=%v failed=%d ok=%v: a failed canary must halt it", s.Hosts[1].Status, s.Halted, s.Failed(), s.OK())
			}
			if got := h.files[bin]; got != tt.file {
				t.Errorf("build at the end %s, want %s", short(got), short(tt.file))
			}
			ms, locks, err := h.saves()
			if err != nil {
				t.Fatal(err)
			}
			if last := ms[len(ms)-1]; last.State != tt.state || locks[len(locks)-1] != "unlock" {
				t.Errorf("last save: state %s lock %q, want %s and the lock released", last.State, locks[len(locks)-1], tt.state)
			}
			if undone := strings.Contains(rec.trail("h1"), "rollback:done restart:fail"); undone != (tt.status == StatusRolledBack) {
				t.Errorf("events %s", rec.trail("h1"))
			}
		})
	}
}

// TestFinalSaveWaitsForTheConnection: a host whose connection is cut when
// its run ends (its final save fails, and so does the first reconnect) is
// reconnected once it answers again, and the final save made then: no
// manifest left saying running, no lock left behind.
func TestFinalSaveWaitsForTheConnection(t *testing.T) {
	h := outdatedHost("h1")
	h.answers["health"] = fails("demo.service: inactive", 1)
	cut := true
	h.answers["save-manifest"] = func(c call) ([]byte, error) {
		if len(c.args) > 2 && c.args[2] == "unlock" && cut {
			return nil, errors.New("connection lost")
		}
		return nil, nil
	}
	tries := 0
	h.reconnect = func() error {
		if tries++; tries < 2 {
			return errors.New("dial h1: no route to host")
		}
		cut = false
		return nil
	}
	res, rec := rollOne(t, h, nil)
	if res.Status != StatusFailed || res.Step != StepRestart {
		t.Fatalf("result %s at %s (%v)\n%s", res.Status, res.Step, res.Err(), rec.trail("h1"))
	}
	ms, locks, err := h.saves()
	if err != nil {
		t.Fatal(err)
	}
	if last := ms[len(ms)-1]; tries != 2 || last.State != StateFailed || locks[len(locks)-1] != "unlock" || cut {
		t.Errorf("after %d reconnect(s): last save state %s lock %q, want failed and the lock released once reconnected\n%v",
			tries, last.State, locks[len(locks)-1], h.received())
	}
}

// A step that runs under the lock has the runner take it first, once for
// the steps that follow it; a lock another run holds fails that step.
func TestLockedStepsTakeTheLockOnce(t *testing.T) {
	inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1})
	noop := func(*hostRun, context.Context) (string, error) { return "", nil }
	f := flow{name: StepPrune, steps: []step{
		{name: StepConnect, timeout: time.Second, run: (*hostRun).connect},
		{name: StepBackup, timeout: time.Second, acts: true, locked: true, run: noop},
		{name: StepPrune, timeout: time.Second, acts: true, locked: true, run: noop},
	}, finish: func(*hostRun) (Status, string) { return StatusOK, "done" }}
	for _, tt := range []struct {
		name   string
		lock   answer
		status Status
		step   Step
		calls  []string
	}{
		{"free", ok(""), StatusOK, "", []string{"lock", "unlock"}},
		{"held elsewhere", fails("held", lockedStatus), StatusFailed, StepBackup, []string{"lock", "lock-show", "lock"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := &scriptedHost{name: "h1", answers: map[string]answer{"lock": tt.lock, "unlock": ok(""), "lock-show": ok("")}}
			r, err := newRunner(Options{Inventory: inv, Dial: func(context.Context, inventory.Target) (Host, error) { return h, nil }})
			if err != nil {
				t.Fatal(err)
			}
			res := r.runHost(context.Background(), inv.Hosts[0], -1, f)
			if res.Status != tt.status || res.Step != tt.step || !slices.Equal(h.received(), tt.calls) {
				t.Errorf("result %s at %s (%s); host received %v, want %v", res.Status, res.Step, res.Error, h.received(), tt.calls)
			}
		})
	}
}
