package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// Options configure a rollout (or a plan: a rollout with a dry Dialer).
type Options struct {
	Inventory *Inventory
	// Targets are the hosts to roll out to, in order; nil means every host.
	Targets  []Target
	Dial     Dialer
	Reporter Reporter
	// RunID names this run's backups and manifests; default NewRunID(now).
	RunID string
	// StateDir keeps a local copy of every manifest; "" keeps none.
	StateDir string
	// Steps, when set, ends each host's work after the last step listed
	// (a plan stops after the drop-ins). Default: every step.
	LastStep Step
	// Halt, when closed, starts no new host and stops in-flight hosts at
	// their next step boundary (an operator's graceful abort).
	Halt <-chan struct{}
	// Pause, when it returns true, holds hosts not yet started.
	Pause func() bool
	// NoReboot skips the cold reboot and the journal timings even when the
	// inventory's policy asks for them.
	NoReboot bool
}

// Status is a host's outcome.
type Status string

// Host outcomes.
const (
	StatusOK         Status = "ok"
	StatusUnchanged  Status = "unchanged" // already at the target: nothing done
	StatusFailed     Status = "failed"
	StatusHalted     Status = "halted"      // stopped at a step boundary
	StatusNotStarted Status = "not-started" // the run halted before its turn
	StatusRolledBack Status = "rolled-back"
)

// HostResult is how one host's work ended.
type HostResult struct {
	Host        string        `json:"host"`
	Batch       int           `json:"batch"`
	Status      Status        `json:"status"`
	Step        Step          `json:"step,omitempty"` // the failed or halted step
	Error       string        `json:"error,omitempty"`
	Changed     int           `json:"changed"` // files changed
	RestartTime time.Duration `json:"restart_ns,omitempty"`
	Duration    time.Duration `json:"duration_ns"`
	RunID       string        `json:"run_id,omitempty"`
	// Reboot and Timings are set when the host was rebooted.
	Reboot  *RebootTiming `json:"reboot,omitempty"`
	Timings []UnitTiming  `json:"timings,omitempty"`
	err     error
}

// Err returns the host's error (a *HostError), or nil.
func (r HostResult) Err() error { return r.err }

// Summary is the outcome of a run.
type Summary struct {
	RunID    string
	Hosts    []HostResult // in inventory order
	Halted   bool         // the failure budget was spent or the run was aborted
	Duration time.Duration
}

// Failed counts hosts that failed.
func (s *Summary) Failed() int {
	n := 0
	for _, h := range s.Hosts {
		if h.Status == StatusFailed {
			n++
		}
	}
	return n
}

// OK reports whether every host ended ok, unchanged or rolled back.
func (s *Summary) OK() bool {
	for _, h := range s.Hosts {
		if h.Status != StatusOK && h.Status != StatusUnchanged && h.Status != StatusRolledBack {
			return false
		}
	}
	return true
}

// runner holds what every host's work shares; nothing in it changes once
// the run has started, except through the mutex-guarded halt state.
type runner struct {
	opts     Options
	runID    string
	services []Service
	targets  []fileTarget
	content  map[string][]byte // remote path -> new content
	rep      Reporter

	mu      sync.Mutex
	halted  bool
	haltCh  chan struct{}
	haltErr error
}

func newRunner(o Options) (*runner, error) {
	if o.Inventory == nil || o.Dial == nil {
		return nil, errors.New("rollout: inventory and dialer are required")
	}
	if o.Reporter == nil {
		o.Reporter = ReporterFunc(func(Event) {})
	}
	if o.RunID == "" {
		o.RunID = NewRunID(time.Now())
	}
	if !ValidRunID(o.RunID) {
		return nil, fmt.Errorf("run id %q: want YYYYMMDD_HHMMSS", o.RunID)
	}
	r := &runner{opts: o, runID: o.RunID, services: o.Inventory.Services, content: map[string][]byte{}, rep: o.Reporter, haltCh: make(chan struct{})}
	// Artifacts are read and hashed once for the whole fleet.
	for _, svc := range o.Inventory.Services {
		for _, a := range svc.Artifacts {
			b, err := os.ReadFile(a.Src)
			if err != nil {
				return nil, fmt.Errorf("artifact %s: %w", a.Src, err)
			}
			r.addTarget(fileTarget{Kind: "artifact", Unit: svc.Unit, Path: a.Dest, Content: b, Mode: a.Mode, Owner: a.Owner})
		}
		if len(svc.DropIn.Settings) > 0 {
			mode := os.FileMode(0o644)
			r.addTarget(fileTarget{Kind: "dropin", Unit: svc.Unit, Path: svc.DropIn.Path(svc.Unit), Content: svc.DropIn.Render(), Mode: &mode, Owner: "root:root"})
		}
	}
	return r, nil
}

func (r *runner) addTarget(t fileTarget) {
	sum := sha256.Sum256(t.Content)
	t.SHA256 = hex.EncodeToString(sum[:])
	r.targets = append(r.targets, t)
	r.content[t.Path] = t.Content
}

func (r *runner) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	r.rep.Report(e)
}

func (r *runner) info(host string, step Step, warn bool, msg string) {
	r.emit(Event{Host: host, Step: step, Phase: PhaseInfo, Batch: -1, Warning: warn, Message: msg})
}

// halt stops the run: no new host starts, in-flight hosts stop at their next
// step boundary.
func (r *runner) halt(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.halted {
		r.halted, r.haltErr = true, err
		close(r.haltCh)
	}
}

func (r *runner) isHalted() bool {
	select {
	case <-r.haltCh:
		return true
	case <-r.opts.Halt:
		r.halt(errors.New("aborted by the operator"))
		return true
	default:
		return false
	}
}

// hostStep is one step of a host's sequence.
type hostStep struct {
	step    Step
	timeout time.Duration
	do      func(ctx context.Context) (string, error)
	// changes: the step replaces files, so the manifest is saved as soon as
	// it is done, beside the next step (saver). The other steps are recorded
	// with the next save: redoing them on a resume is harmless, and each
	// save is a round trip.
	changes bool
}

// rollHost runs one host's whole sequence.
func (r *runner) rollHost(ctx context.Context, t Target, batch int) HostResult {
	start := time.Now()
	res := HostResult{Host: t.Name, Batch: batch, RunID: r.runID}
	to := r.opts.Inventory.Rollout.Timeouts
	// The host lock goes before the host's final event: whoever reacts to
	// that event (an operator's rollback) must find the host free.
	unlock := func() {}
	fail := func(step Step, err error) HostResult {
		unlock()
		he := &HostError{Host: t.Name, Step: step, Err: err}
		res.Status, res.Step, res.Error, res.err = StatusFailed, step, err.Error(), he
		res.Duration = time.Since(start)
		r.emit(Event{Host: t.Name, Step: step, Phase: PhaseFail, Batch: batch, Err: he, Message: err.Error(), Result: &res})
		return res
	}

	h, err := r.connect(ctx, t, batch)
	if err != nil {
		return fail(StepConnect, err)
	}
	defer h.Close()

	r.emit(Event{Host: t.Name, Step: StepPreflight, Phase: PhaseStart, Batch: batch})
	t0 := time.Now()
	pctx, cancel := context.WithTimeout(ctx, to.Preflight)
	facts, err := r.preflight(pctx, h)
	cancel()
	if err != nil {
		return fail(StepPreflight, err)
	}
	msg := fmt.Sprintf("%d file(s) to change", len(facts.Changes))
	if facts.Resume != nil {
		msg += fmt.Sprintf("; resuming run %s (%s)", facts.Resume.RunID, facts.Resume.State)
	}
	r.emit(Event{Host: t.Name, Step: StepPreflight, Phase: PhaseDone, Batch: batch, Duration: time.Since(t0), Message: msg, Changes: slices.Clone(facts.Changes)})
	if len(facts.Changes) == 0 && facts.Resume == nil {
		res.Status, res.Duration = StatusUnchanged, time.Since(start)
		r.emit(Event{Host: t.Name, Step: StepRun, Phase: PhaseSkip, Batch: batch, Message: "already at the target: nothing changed, no backup made", Result: &res})
		return res
	}

	rebooting := r.opts.Inventory.Rollout.Reboot && !r.opts.NoReboot
	if r.isHalted() {
		res.Status, res.Step, res.Duration = StatusHalted, StepBackup, time.Since(start)
		r.emit(Event{Host: t.Name, Step: StepBackup, Phase: PhaseHalted, Batch: batch, Message: "halted before any change", Result: &res})
		return res
	}
	// The lock is taken by the first manifest save, in its session, and
	// released by the last. Until then, and on every other way out, this
	// releases it (if this run holds it).
	released := false
	unlock = sync.OnceFunc(func() {
		if !released {
			unlockHost(ctx, h, r.runID)
		}
	})
	defer unlock()

	m := r.manifestFor(t.Name, facts)
	res.RunID = m.RunID
	steps := []hostStep{
		{step: StepBackup, timeout: to.Backup, do: func(ctx context.Context) (string, error) { return r.backup(ctx, h, m) }},
		{step: StepPush, timeout: to.Push, changes: true, do: func(ctx context.Context) (string, error) { return r.push(ctx, h, m, "artifact") }},
		{step: StepDropIn, timeout: to.Push, changes: true, do: func(ctx context.Context) (string, error) { return r.push(ctx, h, m, "dropin") }},
		{step: StepReload, timeout: to.Reload, do: func(ctx context.Context) (string, error) { return r.reload(ctx, h) }},
		{step: StepRestart, timeout: to.Restart, do: func(ctx context.Context) (string, error) {
			msg, d, err := r.restart(ctx, h)
			res.RestartTime = d
			return msg, err
		}},
	}
	if rebooting {
		more, stop := r.rebootSteps(ctx, h, &res, facts.BootID, facts.PersistentJournal)
		defer stop()
		steps = append(steps, more...)
	}
	sv := &saver{r: r, ctx: ctx, h: h}
	defer sv.wait() // before the connection closes
	// The manifest is on the host before the first change, so even a run
	// cut off mid-step can be rolled back from the host alone.
	if err := r.saveLock(ctx, h, m, takeLock); err != nil {
		if errors.Is(err, errLocked) {
			return fail(StepPreflight, err)
		}
		return fail(StepBackup, err)
	}
	for _, s := range steps {
		if r.isHalted() {
			if step, err := sv.wait(); err != nil {
				return fail(step, err)
			}
			m.State = StateHalted
			r.saveDetached(ctx, h, m)
			res.Status, res.Step, res.Duration = StatusHalted, s.step, time.Since(start)
			res.Changed = countDone(m)
			unlock()
			r.emit(Event{Host: t.Name, Step: s.step, Phase: PhaseHalted, Batch: batch, Message: "halted before this step", Result: &res})
			return res
		}
		r.emit(Event{Host: t.Name, Step: s.step, Phase: PhaseStart, Batch: batch})
		t0 := time.Now()
		sctx, cancel := context.WithTimeout(ctx, s.timeout)
		msg, err := s.do(sctx)
		cancel()
		if err != nil {
			m.record(s.step, PhaseFail, t0, err)
			m.State = StateFailed
			sv.wait() // its failure, if any, is reported by the save after it
			r.saveDetached(ctx, h, m)
			res.Changed = countDone(m)
			return fail(s.step, err)
		}
		m.record(s.step, PhaseDone, t0, nil)
		if s.changes {
			if step, err := sv.start(m, s.step); err != nil {
				return fail(step, err)
			}
		}
		r.emit(Event{Host: t.Name, Step: s.step, Phase: PhaseDone, Batch: batch, Duration: time.Since(t0), Message: msg})
		if s.step == r.opts.LastStep {
			break
		}
	}
	if step, err := sv.wait(); err != nil {
		return fail(step, err)
	}
	m.State = StateComplete
	if err := r.saveLock(ctx, h, m, releaseLock); err != nil {
		return fail(StepRestart, err)
	}
	released = true
	res.Status, res.Changed, res.Duration = StatusOK, countDone(m), time.Since(start)
	unlock()
	r.emit(Event{Host: t.Name, Step: StepRun, Phase: PhaseDone, Batch: batch, Duration: res.Duration, Message: fmt.Sprintf("%d file(s) changed", res.Changed), Result: &res})
	return res
}

// connect dials t between the connect step's start and done events.
func (r *runner) connect(ctx context.Context, t Target, batch int) (Host, error) {
	r.emit(Event{Host: t.Name, Step: StepConnect, Phase: PhaseStart, Batch: batch})
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.opts.Inventory.Rollout.Timeouts.Connect)
	defer cancel()
	h, err := r.opts.Dial(ctx, t)
	if err != nil {
		return nil, err
	}
	r.emit(Event{Host: t.Name, Step: StepConnect, Phase: PhaseDone, Batch: batch, Duration: time.Since(t0)})
	return h, nil
}

// manifestFor starts this run's manifest, or continues an unfinished one
// whose backups hold the original files.
func (r *runner) manifestFor(host string, f *Facts) *Manifest {
	if p := f.Resume; p != nil {
		byPath := map[string]Change{}
		for _, c := range p.Changes {
			byPath[c.Path] = c
		}
		var changes []Change
		for _, c := range f.Changes {
			if old, ok := byPath[c.Path]; ok && old.Done {
				// The earlier run replaced this file: the original is what it
				// backed up. (A file it never got to is still the original,
				// or changed since by someone else: then this run's own
				// preflight values and backup are the truth.)
				c.Existed, c.OldSHA256, c.OldMode, c.OldOwner, c.OldSize = old.Existed, old.OldSHA256, old.OldMode, old.OldOwner, old.OldSize
				c.Backup, c.CreatedDir = old.Backup, old.CreatedDir
			}
			delete(byPath, c.Path)
			changes = append(changes, c)
		}
		// The earlier run's files that are at the target now stay recorded
		// for rollback, as done: that run's preflight found each differing,
		// so it wrote it, even if it was cut off before recording that.
		for _, c := range p.Changes {
			if _, ok := byPath[c.Path]; ok {
				c.Done = true
				changes = append(changes, c)
			}
		}
		p.Changes, p.State = changes, StateRunning
		return p
	}
	name, _ := os.Hostname()
	return &Manifest{
		Schema: ManifestSchema, RunID: r.runID, Host: host, Controller: name,
		Started: time.Now().UTC(), State: StateRunning, Units: f.Units, Changes: f.Changes,
	}
}

// save records the manifest. It runs detached from the run's cancellation,
// with a timeout of its own: a step that succeeded must not go unrecorded
// because the operator pressed Ctrl-C just after it.
func (r *runner) save(ctx context.Context, h Host, m *Manifest) error {
	return r.saveLock(ctx, h, m, noLock)
}

// saveLock is save that also takes or releases the host's run lock, in the
// same session (manifestWrite.write).
func (r *runner) saveLock(ctx context.Context, h Host, m *Manifest, lock lockAction) error {
	w, err := m.snapshot(r.opts.StateDir)
	if err != nil {
		return err
	}
	return r.write(ctx, h, w, lock)
}

// write writes a manifest snapshot detached from the run's cancellation,
// with a timeout of its own.
func (r *runner) write(ctx context.Context, h Host, w *manifestWrite, lock lockAction) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), manifestTimeout)
	defer cancel()
	return w.write(ctx, h, lock, r.runID)
}

const manifestTimeout = 30 * time.Second

// saveDetached is save for failure paths, where its own error can only be
// reported.
func (r *runner) saveDetached(ctx context.Context, h Host, m *Manifest) {
	if err := r.save(ctx, h, m); err != nil {
		r.info(h.Name(), StepRun, true, "could not record the outcome in the manifest: "+err.Error())
	}
}

// saver writes the record of a step that changed a file beside the step
// after it: the record of a change already made need not hold up the next
// one. A record that lags its change is what a run cut off between the two
// leaves anyway: rollback compares the files themselves, and a resumed run
// counts the files at the target as done. Saves stay in order: each waits
// for the one before, and every other save of the host waits for it too.
type saver struct {
	r   *runner
	ctx context.Context
	h   Host

	done chan struct{} // closed when the save in flight ends; nil: none
	step Step          // the step it records
	err  error
}

// start snapshots m, which records step, and writes it in the background.
// It returns the error of the save before it, if that one failed, with the
// step that save recorded.
func (s *saver) start(m *Manifest, step Step) (Step, error) {
	if failed, err := s.wait(); err != nil {
		return failed, err
	}
	w, err := m.snapshot(s.r.opts.StateDir)
	if err != nil {
		return step, err
	}
	done := make(chan struct{})
	s.done, s.step = done, step
	go func() {
		defer close(done)
		s.err = s.r.write(s.ctx, s.h, w, noLock)
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

func countDone(m *Manifest) int {
	n := 0
	for _, c := range m.Changes {
		if c.Done {
			n++
		}
	}
	return n
}
