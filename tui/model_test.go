package tui

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/fleetfix/fleetfix/fleet"
)

// ---- events in, state out -----------------------------------------------

func stateOf(evs []fleet.Event) *RunState {
	s := NewRunState(rows, steps)
	s.ApplyPlan(planEvents())
	for _, e := range evs {
		s.Apply(e)
	}
	return s
}

func TestApplyRunningRun(t *testing.T) {
	s := stateOf(runEvents())
	if got, want := s.Counts(), (Counts{Total: 3, Queued: 1, OK: 1, Failed: 1}); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	h1, h2, h3 := s.Host("h1"), s.Host("h2"), s.Host("h3")
	if h1.Status != StatusOK || len(h1.Done) != 10 || h1.Step != fleet.StepVerify {
		t.Errorf("h1: %s, %d steps done, step %s; want ok, 10, verify", h1.Status, len(h1.Done), h1.Step)
	}
	if ts := h1.Timings(); len(ts) != 1 || ts[0].Before.Duration != 3170*time.Millisecond || !ts[0].Before.Killed || ts[0].After.Duration != 18*time.Millisecond {
		t.Errorf("h1 timings %+v", ts)
	}
	if h2.Status != StatusFailed || h2.FailedStep != fleet.StepRestart || !strings.Contains(h2.Error, "not healthy within 15s") {
		t.Errorf("h2: %s at %s: %q", h2.Status, h2.FailedStep, h2.Error)
	}
	if len(h2.Done) != 6 || h2.Done[fleet.StepRestart] {
		t.Errorf("h2 done steps %v", h2.Done)
	}
	if got := h2.Log[len(h2.Log)-1]; !got.Err || got.Step != fleet.StepRestart {
		t.Errorf("h2's last log line %+v, want the failure", got)
	}
	if !slices.ContainsFunc(h2.Log, func(l LogLine) bool { return l.Warn && strings.Contains(l.Text, "Killing") }) {
		t.Error("h2's log lacks the warning")
	}
	if h3.Status != StatusQueued || h3.Batch != 2 || !h3.Started.IsZero() {
		t.Errorf("h3: %s batch %d started %v", h3.Status, h3.Batch, h3.Started)
	}
	if got := s.HostElapsed(h2, at(100)); got != 21*time.Second {
		t.Errorf("h2 elapsed %s, want 21s (started 14, failed 35)", got)
	}
	if got := s.HostElapsed(h1, at(100)); got != 13500*time.Millisecond {
		t.Errorf("h1 elapsed %s, want 13.5s", got)
	}
	if p := s.Progress(); p < 0.66 || p > 0.67 {
		t.Errorf("progress %.3f, want 2/3", p)
	}
	// h3 is left, planned unchanged: its connect and preflight at their
	// mean times so far (h1's 1.35 s, h2's 1 s).
	eta, ok := s.ETA(at(36), 0)
	if want := 2 * 1175 * time.Millisecond; !ok || eta != want {
		t.Errorf("ETA %s %v, want %s", eta, ok, want)
	}
	if s.Finished {
		t.Error("finished before the run's done event")
	}
}

func TestApplyRunningHostMidway(t *testing.T) {
	rows, evs := fleetEvents()
	s := NewRunState(rows, steps)
	for _, e := range evs {
		s.Apply(e)
	}
	db := s.Host("db-01")
	if db.Status != StatusRunning || db.Step != fleet.StepDropIn || db.Phase != fleet.PhaseStart {
		t.Errorf("db-01: %s at %s/%s", db.Status, db.Step, db.Phase)
	}
	if got := s.HostProgress(db); got != 4.0/10 {
		t.Errorf("db-01 progress %.3f, want 4/10", got)
	}
	if got := s.HostElapsed(db, at(64)); got != 10*time.Second {
		t.Errorf("db-01 elapsed %s, want 10s", got)
	}
	if s.Started != t0 {
		t.Errorf("run started %v", s.Started)
	}
}

func TestApplyFinishedRun(t *testing.T) {
	s := stateOf(finishedEvents())
	if !s.Finished || s.Ended != at(35.2) || !strings.Contains(s.Message, "halted") {
		t.Errorf("finished %v at %v: %q", s.Finished, s.Ended, s.Message)
	}
	if h3 := s.Host("h3"); h3.Status != StatusNotStarted || h3.Result == nil {
		t.Errorf("h3 %s, result %v", h3.Status, h3.Result)
	}
	if got := s.Counts(); got.Halted != 0 || got.NotStarted != 1 || got.Queued != 0 {
		t.Errorf("counts %+v, want h3 not started, not halted", got)
	}
	// h3 never started: the halted run is not 100 % done.
	if p := s.Progress(); p < 0.66 || p > 0.67 || s.Elapsed(at(99)) != 35200*time.Millisecond {
		t.Errorf("progress %v elapsed %v", s.Progress(), s.Elapsed(at(99)))
	}
	if _, ok := s.ETA(at(99), 0); ok {
		t.Error("an ETA for a finished run")
	}
}

func TestRunThatCannotStart(t *testing.T) {
	m := press(testModel(rows, planEvents(), at(1), Controls{}), "y")
	m = update(m, eventMsg{e: fleet.Event{Time: at(1), Step: fleet.StepRun, Phase: fleet.PhaseFail, Batch: -1, Message: "artifact /x: no such file"}})
	if !m.State().Finished || !m.State().Failed || !strings.Contains(m.Render(), "✗ the run failed: artifact /x: no such file") {
		t.Errorf("finished %v failed %v\n%s", m.State().Finished, m.State().Failed, m.Render())
	}
	if m = press(m, "q"); !m.Quitting() {
		t.Error("q after a failed run did not quit")
	}
}

func TestApplyUnchangedHaltedAndLiveBatch(t *testing.T) {
	s := NewRunState(rows, []fleet.Step{fleet.StepConnect, fleet.StepPreflight, fleet.StepBackup})
	s.Apply(fleet.Event{Time: at(1), Host: "h1", Step: fleet.StepConnect, Phase: fleet.PhaseStart, Batch: 0})
	s.Apply(fleet.Event{Time: at(2), Host: "h1", Step: fleet.StepRun, Phase: fleet.PhaseSkip, Batch: 0,
		Result: &fleet.HostResult{Host: "h1", Status: fleet.StatusUnchanged}})
	// The canary was unchanged: h2 takes its place as canary (batch 0).
	s.Apply(fleet.Event{Time: at(3), Host: "h2", Step: fleet.StepConnect, Phase: fleet.PhaseStart, Batch: 0})
	s.Apply(fleet.Event{Time: at(4), Host: "h2", Step: fleet.StepBackup, Phase: fleet.PhaseHalted, Batch: 0, Message: "halted before any change",
		Result: &fleet.HostResult{Host: "h2", Status: fleet.StatusHalted, Step: fleet.StepBackup}})
	// An event for a host the TUI was not told of adds a row.
	s.Apply(fleet.Event{Time: at(5), Host: "h9", Step: fleet.StepConnect, Phase: fleet.PhaseStart, Batch: 3})
	if h := s.Host("h1"); h.Status != StatusUnchanged || s.HostProgress(h) != 1 {
		t.Errorf("h1 %s progress %v", h.Status, s.HostProgress(h))
	}
	if h := s.Host("h2"); h.Status != StatusHalted || h.Batch != 0 {
		t.Errorf("h2 %s batch %d, want halted in batch 0", h.Status, h.Batch)
	}
	if h := s.Host("h9"); h == nil || h.Status != StatusRunning || h.Batch != 3 {
		t.Errorf("h9 %+v", h)
	}
	if c := s.Counts(); c.Unchanged != 1 || c.Halted != 1 || c.Running != 1 || c.Queued != 1 || c.Total != 4 {
		t.Errorf("counts %+v", c)
	}
	if ok, _ := s.Host("h2").CanRollBack(); ok {
		t.Error("a host halted before any change can be rolled back")
	}
}

func TestApplyRollback(t *testing.T) {
	s := stateOf(finishedEvents())
	rb := func(phase fleet.Phase, host string, res *fleet.HostResult) {
		s.Apply(fleet.Event{Time: at(50), Host: host, Step: fleet.StepRollback, Phase: phase, Batch: -1, Message: "m", Result: res})
	}
	rb(fleet.PhaseStart, "h1", nil)
	if h := s.Host("h1"); h.Status != StatusRollingBack || h.Batch != 0 {
		t.Fatalf("h1 %s batch %d", h.Status, h.Batch)
	}
	if c := s.Counts(); c.RollingBack != 1 || c.OK != 0 {
		t.Errorf("counts %+v", c)
	}
	rb(fleet.PhaseDone, "h1", &fleet.HostResult{Host: "h1", Status: fleet.StatusRolledBack, Changed: 2})
	if h := s.Host("h1"); h.Status != StatusRolledBack || h.Rollback == nil || h.Result.Status != fleet.StatusOK {
		t.Errorf("h1 %s rollback %v result %v", h.Status, h.Rollback, h.Result)
	}
	if c := s.Counts(); c.RolledBack != 1 {
		t.Errorf("counts %+v", c)
	}
	// Nothing to roll back: the host keeps its status.
	rb(fleet.PhaseStart, "h2", nil)
	rb(fleet.PhaseSkip, "h2", &fleet.HostResult{Host: "h2", Status: fleet.StatusUnchanged})
	if h := s.Host("h2"); h.Status != StatusFailed {
		t.Errorf("h2 after a rollback with nothing to do: %s", h.Status)
	}
	// Halted before its rollback step: nothing undone, the status it had.
	rb(fleet.PhaseStart, "h2", nil)
	rb(fleet.PhaseHalted, "h2", &fleet.HostResult{Host: "h2", Status: fleet.StatusHalted})
	if h := s.Host("h2"); h.Status != StatusFailed {
		t.Errorf("h2 after a rollback halted before it began: %s", h.Status)
	}
	rb(fleet.PhaseStart, "h2", nil)
	s.Apply(fleet.Event{Time: at(51), Host: "h2", Step: fleet.StepRollback, Phase: fleet.PhaseFail, Batch: -1, Message: "restore: sha256 mismatch"})
	if h := s.Host("h2"); h.Status != StatusRollbackFailed || h.Error != "restore: sha256 mismatch" {
		t.Errorf("h2 %s %q", h.Status, h.Error)
	}
	if ok, _ := s.Host("h2").CanRollBack(); !ok {
		t.Error("a failed rollback cannot be retried")
	}
}

func TestApplyPlan(t *testing.T) {
	s := NewRunState(rows, steps)
	s.ApplyPlan(append(planEvents(), fleet.Event{Host: "h3", Step: fleet.StepConnect, Phase: fleet.PhaseFail, Message: "dial tcp 10.0.0.3:22: no route to host"}))
	if h := s.Host("h1"); len(h.Changes) != 2 || !h.Planned || h.Changes[1].Diff == "" {
		t.Errorf("h1 plan %+v", h)
	}
	if h := s.Host("h3"); h.PlanError != "connect: dial tcp 10.0.0.3:22: no route to host" {
		t.Errorf("h3 plan error %q", h.PlanError)
	}
	if s.Counts().Queued != 3 {
		t.Error("the plan moved hosts out of the queue")
	}
	// A host whose files are new but whose last run failed is resumed, not
	// "unchanged".
	s = NewRunState(rows, steps)
	s.ApplyPlan([]fleet.Event{{Host: "h2", Step: fleet.StepPreflight, Phase: fleet.PhaseDone, Message: "0 file(s) to change; resuming run 20261124_224136 (failed)"}})
	m := testModel(rows, nil, at(0), Controls{})
	m.run = s
	if h := s.Host("h2"); h.Resume != "resuming run 20261124_224136 (failed)" || !strings.Contains(m.Render(), "h2: resumes an unfinished run") {
		t.Errorf("resume %q\n%s", h.Resume, m.Render())
	}
}

func TestMultiLineMessagesSplitAndLogBounded(t *testing.T) {
	s := NewRunState(rows, steps)
	s.Apply(fleet.Event{Time: at(1), Host: "h1", Step: fleet.StepRestart, Phase: fleet.PhaseInfo, Message: "line one\nline two\n"})
	if h := s.Host("h1"); len(h.Log) != 2 || h.Log[1].Text != "    line two" {
		t.Errorf("log %+v", h.Log)
	}
	for i := range maxLog + 50 {
		s.Apply(fleet.Event{Time: at(2), Host: "h1", Step: fleet.StepRestart, Phase: fleet.PhaseInfo, Message: fmt.Sprint(i)})
	}
	if h := s.Host("h1"); len(h.Log) != maxLog || h.Log[maxLog-1].Text != "info  "+fmt.Sprint(maxLog+49) {
		t.Errorf("log of %d lines, last %q", len(h.Log), h.Log[len(h.Log)-1].Text)
	}
}

// ---- keys in, controls out --------------------------------------------

// recorder is a fake engine: it records every call of the controls.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s)
}

func (r *recorder) got() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.calls, ",")
}

func (r *recorder) controls() Controls {
	return Controls{
		Start:    func() { r.add("start") },
		Pause:    func(p bool) { r.add(fmt.Sprintf("pause(%v)", p)) },
		Abort:    func() { r.add("abort") },
		Stop:     func() { r.add("stop") },
		Rollback: func(h, id string) { r.add("rollback(" + h + "," + id + ")") },
	}
}

func TestPlanScreenQuitWithoutStarting(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		var r recorder
		m := press(testModel(rows, planEvents(), at(0), r.controls()), "down", k)
		if !m.Quitting() || m.Started() || r.got() != "" {
			t.Errorf("%s on the plan: quitting %v started %v calls %q", k, m.Quitting(), m.Started(), r.got())
		}
		// Ctrl-C is an interruption (the command exits 130); q is not.
		if m.interrupted != (k == "ctrl+c") {
			t.Errorf("%s on the plan: interrupted = %v", k, m.interrupted)
		}
	}
	// Esc is "back" everywhere; the plan has no screen before it: esc
	// stays and says how to leave.
	m := press(testModel(rows, planEvents(), at(0), Controls{}), "pgdown", "esc")
	if m.Quitting() || m.scroll != 0 || !strings.Contains(m.Render(), "q quits (nothing changed)") {
		t.Errorf("esc on the plan: quitting %v scroll %d\n%s", m.Quitting(), m.scroll, m.Render())
	}
}

func TestStartPauseResume(t *testing.T) {
	var r recorder
	m := testModel(rows, planEvents(), at(0), r.controls())
	m = press(m, "p") // nothing to pause before the start
	if r.got() != "" || m.Paused() {
		t.Fatalf("p on the plan: %q", r.got())
	}
	m = press(m, "y")
	if !m.Started() || r.got() != "start" {
		t.Fatalf("y on the plan: started %v, calls %q", m.Started(), r.got())
	}
	m = press(m, "p")
	if !m.Paused() || !strings.Contains(m.Render(), "[PAUSED]") || !strings.Contains(m.Render(), "p resume") {
		t.Errorf("after p: paused %v, screen:\n%s", m.Paused(), m.Render())
	}
	m = press(m, "p")
	if m.Paused() || r.got() != "start,pause(true),pause(false)" {
		t.Errorf("after p p: paused %v, calls %q", m.Paused(), r.got())
	}
}

func TestAbortAsksFirst(t *testing.T) {
	var r recorder
	m := press(testModel(rows, planEvents(), at(0), r.controls()), "enter", "a")
	if m.Confirming() != "abort" || !strings.Contains(m.Render(), "Abort the run?") {
		t.Fatalf("a: confirming %q", m.Confirming())
	}
	m = press(m, "x") // other keys leave the question up
	if m.Confirming() != "abort" {
		t.Fatalf("x dismissed the question")
	}
	m = press(m, "n")
	if m.Confirming() != "" || m.Aborting() || r.got() != "start" {
		t.Fatalf("a n: confirming %q aborting %v calls %q", m.Confirming(), m.Aborting(), r.got())
	}
	m = press(m, "a", "y")
	if !m.Aborting() || r.got() != "start,abort" || !strings.Contains(m.Render(), "[ABORTING]") {
		t.Fatalf("a y: aborting %v calls %q", m.Aborting(), r.got())
	}
	m = press(m, "p", "a")
	if r.got() != "start,abort" || m.Confirming() != "" {
		t.Errorf("p/a after the abort: calls %q, confirming %q", r.got(), m.Confirming())
	}
}

func TestCtrlCAbortsThenStopsThenLeaves(t *testing.T) {
	var r recorder
	m := press(testModel(rows, planEvents(), at(0), r.controls()), "enter", "ctrl+c")
	if !m.Aborting() || m.Quitting() || r.got() != "start,abort" {
		t.Fatalf("first ctrl+c: aborting %v quitting %v calls %q", m.Aborting(), m.Quitting(), r.got())
	}
	m = press(m, "ctrl+c")
	if m.Quitting() || r.got() != "start,abort,stop" || !strings.Contains(m.Render(), "[STOPPING]") {
		t.Fatalf("second ctrl+c: quitting %v calls %q", m.Quitting(), r.got())
	}
	m = press(m, "ctrl+c")
	if !m.Quitting() || r.got() != "start,abort,stop" {
		t.Fatalf("third ctrl+c: quitting %v calls %q", m.Quitting(), r.got())
	}
	// After a confirmed abort, ctrl+c goes straight to stop.
	var r2 recorder
	_ = press(testModel(rows, planEvents(), at(0), r2.controls()), "enter", "a", "y", "ctrl+c")
	if r2.got() != "start,abort,stop" {
		t.Errorf("a y ctrl+c: %q", r2.got())
	}
}

func TestRollbackSelectedHost(t *testing.T) {
	var r recorder
	m := feed(press(testModel(rows, planEvents(), at(36), r.controls()), "enter"), runEvents())
	// h3 is queued: nothing to roll back, and no question.
	m = press(m, "down", "down", "r")
	if m.Selected() != "h3" || m.Confirming() != "" || !strings.Contains(m.Render(), "h3 has not started") {
		t.Fatalf("r on h3: selected %s, confirming %q\n%s", m.Selected(), m.Confirming(), m.Render())
	}
	m = press(m, "down") // stays on the last host
	m = press(m, "up", "up", "up", "r")
	if m.Selected() != "h1" || m.Confirming() != "rollback h1" {
		t.Fatalf("r on h1: selected %s, confirming %q", m.Selected(), m.Confirming())
	}
	m = press(m, "n")
	if r.got() != "start" {
		t.Fatalf("r n: %q", r.got())
	}
	// h1 is the canary: rolling it back mid-run pauses the run first.
	m = press(m, "r", "y")
	if r.got() != "start,pause(true),rollback(h1,"+runID+")" || m.State().Host("h1").Status != StatusRollingBack ||
		!m.Paused() || !strings.Contains(m.Render(), "rolling back the canary h1: run paused") {
		t.Fatalf("r y: calls %q, h1 %s", r.got(), m.State().Host("h1").Status)
	}
	// Asked once: a second r while it runs is refused.
	m = press(m, "r")
	if m.Confirming() != "" || !strings.Contains(m.Render(), "h1 is being rolled back") {
		t.Errorf("second r: confirming %q", m.Confirming())
	}
	// h2 failed at restart, after its files changed: it can be rolled back
	// (its run id is not known from a fail event: the command's own run).
	m = press(m, "down", "r", "y")
	if r.got() != "start,pause(true),rollback(h1,"+runID+"),rollback(h2,)" {
		t.Errorf("h2: calls %q", r.got())
	}
	// Its events arrive on the stream.
	m = feed(m, []fleet.Event{
		{Time: at(40), Host: "h1", Step: fleet.StepRollback, Phase: fleet.PhaseStart, Batch: -1},
		{Time: at(44), Host: "h1", Step: fleet.StepRollback, Phase: fleet.PhaseDone, Batch: -1, Message: "run " + runID + " rolled back: 2 file(s) restored or removed",
			Result: &fleet.HostResult{Host: "h1", Status: fleet.StatusRolledBack}},
	})
	if h := m.State().Host("h1"); h.Status != StatusRolledBack {
		t.Errorf("h1 %s", h.Status)
	}
	if c := m.State().Counts(); c.RolledBack != 1 || c.RollingBack != 1 {
		t.Errorf("counts %+v", c)
	}
	// h1's row says rolled back, not its rollout's stop times.
	m = press(m, "up")
	if v := m.Render(); !strings.Contains(v, "rolled back  files restored") || strings.Contains(v, "0.018s ✓") {
		t.Errorf("h1's row after its rollback:\n%s", v)
	}
}

func TestQuitAsksWhileRunning(t *testing.T) {
	var r recorder
	m := press(testModel(rows, planEvents(), at(0), r.controls()), "enter", "q")
	if m.Confirming() != "quit" || m.Quitting() {
		t.Fatalf("q while running: confirming %q quitting %v", m.Confirming(), m.Quitting())
	}
	m = press(m, "n")
	if m.Quitting() || m.Confirming() != "" {
		t.Fatal("q n quit")
	}
	m = press(m, "q", "y")
	if !m.Quitting() || r.got() != "start,abort" {
		t.Fatalf("q y: quitting %v calls %q", m.Quitting(), r.got())
	}
	// Once the run has finished, q quits at once.
	var r2 recorder
	m = feed(press(testModel(rows, planEvents(), at(40), r2.controls()), "enter"), finishedEvents())
	m = press(m, "q")
	if !m.Quitting() || r2.got() != "start" {
		t.Errorf("q after the run: quitting %v calls %q", m.Quitting(), r2.got())
	}
	// ...unless a rollback is still going.
	var r3 recorder
	m = feed(press(testModel(rows, planEvents(), at(40), r3.controls()), "enter"), finishedEvents())
	m = press(m, "r", "y", "q")
	if m.Quitting() || m.Confirming() != "quit" || !strings.Contains(m.Render(), "rollback in progress") {
		t.Errorf("q during a rollback: quitting %v, confirming %q", m.Quitting(), m.Confirming())
	}
}

func TestScreensAndDetails(t *testing.T) {
	m := feed(press(testModel(rows, planEvents(), at(36), Controls{}), "enter"), runEvents())
	m = press(m, "t")
	if !strings.Contains(m.Render(), "STOP TIME AT SHUTDOWN") {
		t.Fatalf("t: no timings view\n%s", m.Render())
	}
	m = press(m, "t")
	if strings.Contains(m.Render(), "STOP TIME AT SHUTDOWN") {
		t.Fatal("t t: still the timings view")
	}
	m = press(m, "?")
	if !strings.Contains(m.Render(), "WHAT THEY DO") {
		t.Fatal("?: no help")
	}
	m = press(m, "esc")
	if strings.Contains(m.Render(), "WHAT THEY DO") {
		t.Fatal("esc: still help")
	}
	m = press(m, "down", "enter")
	if v := m.Render(); !strings.Contains(v, "error: smart-proxy.service not healthy") || !strings.Contains(v, "enter/esc back") {
		t.Fatalf("enter on h2: no details\n%s", v)
	}
	// The details follow the selection.
	m = press(m, "up")
	if v := m.Render(); !strings.Contains(v, "stop smart-proxy.service: 3.17s, SIGKILLed → 0.018s, clean") {
		t.Fatalf("up in details: not h1's\n%s", v)
	}
	m = press(m, "enter")
	if strings.Contains(m.Render(), "enter/esc back") {
		t.Fatal("enter enter: still details")
	}
}

func TestDetailsScrollWithinBounds(t *testing.T) {
	m := sized(feed(press(testModel(rows, planEvents(), at(36), Controls{}), "enter"), runEvents()), 80, 16)
	m = press(m, "down", "enter")
	last := func(m Model) string {
		lines := strings.Split(m.Render(), "\n")
		return lines[len(lines)-3]
	}
	newest := last(m)
	m = press(m, "pgup")
	if last(m) == newest {
		t.Fatal("pgup did not scroll the log")
	}
	for range 20 {
		m = press(m, "pgup")
	}
	if !strings.Contains(m.Render(), "changes") {
		t.Errorf("scrolled to the top, no changes heading\n%s", m.Render())
	}
	m = press(m, "pgdown") // one page back from the top, at once
	for range 20 {
		m = press(m, "pgdown")
	}
	if last(m) != newest {
		t.Errorf("pgdown to the end: %q, want %q", last(m), newest)
	}
}

func TestResizeKeepsFrame(t *testing.T) {
	rows, evs := fleetEvents()
	m := feed(press(testModel(rows, nil, at(64), Controls{}), "enter"), evs)
	for _, sz := range [][2]int{{80, 24}, {200, 60}, {100, 30}, {60, 15}, {80, 24}} {
		m = sized(m, sz[0], sz[1])
		for _, k := range []string{"", "t", "t", "?", "esc", "enter", "enter"} {
			if k != "" {
				m = press(m, k)
			}
			v := m.Render()
			lines := strings.Split(v, "\n")
			if len(lines) != sz[1] {
				t.Errorf("%dx%d after %q: %d lines", sz[0], sz[1], k, len(lines))
			}
			for _, l := range lines {
				if w := ansi.StringWidth(l); w > sz[0] {
					t.Errorf("%dx%d after %q: a line of %d cells: %q", sz[0], sz[1], k, w, l)
				}
			}
		}
	}
}

func TestColorAndNoColor(t *testing.T) {
	rows, evs := fleetEvents()
	cfg := Config{Title: "t", Hosts: rows, Steps: steps, Now: func() time.Time { return at(64) }}
	t.Setenv("NO_COLOR", "")
	m := feed(press(NewModel(cfg), "enter"), evs)
	if v := m.Render(); !strings.Contains(v, "\x1b[") {
		t.Error("the color view has no escape code")
	}
	t.Setenv("NO_COLOR", "1")
	m = feed(press(NewModel(cfg), "enter"), evs)
	for _, k := range []string{"", "t", "?"} {
		if k != "" {
			m = press(m, k)
		}
		if v := m.Render(); strings.ContainsRune(v, '\x1b') {
			t.Errorf("NO_COLOR set, view after %q has escape codes", k)
		}
	}
}

func TestEventsReachTheModelOneAtATime(t *testing.T) {
	ch := make(chan fleet.Event, 2)
	m := NewModel(Config{Hosts: rows, Steps: steps, Events: ch, NoColor: true})
	ch <- fleet.Event{Time: at(1), Host: "h1", Step: fleet.StepConnect, Phase: fleet.PhaseStart, Batch: 0}
	ch <- fleet.Event{Time: at(2), Host: "h1", Step: fleet.StepConnect, Phase: fleet.PhaseDone, Batch: 0}
	close(ch)
	cmd := m.Init()
	var msgs []string
	for cmd != nil && len(msgs) < 5 {
		msg := cmd()
		msgs = append(msgs, fmt.Sprintf("%T", msg))
		nm, next := m.Update(msg)
		m, cmd = nm.(Model), next
	}
	if got := strings.Join(msgs, ","); got != "tui.eventMsg,tui.eventMsg,tui.streamClosedMsg" {
		t.Errorf("messages %s", got)
	}
	if h := m.State().Host("h1"); !h.Done[fleet.StepConnect] {
		t.Error("events not applied")
	}
}

// The timings screen marks a stop after the fix with nothing in flight: its
// clean stop proves nothing.
func TestTimingsMarkAnIdleStop(t *testing.T) {
	for _, inFlight := range []int{0, 3} {
		evs := runEvents()
		for _, e := range evs {
			if e.Host == "h1" && e.Result != nil {
				e.Result.Timings[0].InFlight = &inFlight
			}
		}
		v := press(feed(press(testModel(rows, planEvents(), at(36), Controls{}), "enter"), evs), "t").Render()
		if got := strings.Contains(v, "idle: proves nothing"); got != (inFlight == 0) {
			t.Errorf("%d in flight: idle marked %v\n%s", inFlight, got, v)
		}
	}
}
