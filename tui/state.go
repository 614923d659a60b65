package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/plain"
)

// Status is a host's state as the TUI shows it: the engine's outcomes plus
// the states a host passes through on screen.
type Status string

// Host states. The engine's fleet.Status values map onto the final ones.
const (
	StatusQueued         Status = "queued"
	StatusRunning        Status = "running"
	StatusOK             Status = "ok"
	StatusUnchanged      Status = "unchanged"
	StatusFailed         Status = "failed"
	StatusHalted         Status = "halted"
	StatusCancelled      Status = "cancelled"
	StatusNotStarted     Status = "not started"
	StatusRollingBack    Status = "rolling back"
	StatusRolledBack     Status = "rolled back"
	StatusRollbackFailed Status = "rollback failed"
)

// finished reports whether the host's part of the rollout is over.
func (s Status) finished() bool {
	switch s {
	case StatusQueued, StatusRunning:
		return false
	}
	return true
}

// HostRow is a host as the run will take it: its name and its planned batch
// (0 = canary). Rows are shown in the order given (batch order).
type HostRow struct {
	Name  string
	Batch int
}

// LogLine is one line of a host's (or the run's) log.
type LogLine struct {
	Time  time.Time
	Step  fleet.Step
	Phase fleet.Phase
	Text  string
	Warn  bool
	Err   bool
}

// Host is what the TUI knows of one host.
type Host struct {
	Name   string
	Batch  int
	Status Status
	// Step and Phase are the host's latest step event.
	Step  fleet.Step
	Phase fleet.Phase
	// Done holds the steps done (or skipped); FailedStep the one that failed.
	Done       map[fleet.Step]bool
	FailedStep fleet.Step
	// Took holds the measured time of each step done, for the ETA.
	Took    map[fleet.Step]time.Duration
	Started time.Time
	Ended   time.Time
	// StepStarted is when the host's current step started.
	StepStarted time.Time
	Error       string
	// Changes are the planned file changes (the plan's, then the live
	// preflight's); Planned is set once the plan's preflight reported them,
	// PlanError when the plan failed on the host.
	Changes   []fleet.Change
	Planned   bool
	PlanError string
	// Resume is set when the plan resumes an unfinished earlier run
	// ("resuming run 20261124_213045 (failed)").
	Resume string
	// Units are the host's services (the ones that select it), from the
	// plan's result, then the run's.
	Units []string
	// Result is the engine's final result of the rollout; Rollback the
	// result of a rollback started from the TUI.
	Result   *fleet.HostResult
	Rollback *fleet.HostResult
	// beforeRollback is the status to go back to when a rollback had
	// nothing to do.
	beforeRollback Status
	Log            []LogLine
}

// Timings returns the host's stop timings, when its journal step ran.
func (h *Host) Timings() []fleet.UnitTiming {
	if h.Result == nil {
		return nil
	}
	return h.Result.Timings
}

// TimingRows are the host's rows of the timings table, when its journal
// step ran.
func (h *Host) TimingRows() []plain.TimingRow {
	if len(h.Timings()) == 0 {
		return nil
	}
	return plain.HostTimings(*h.Result)
}

// RunState is everything the TUI knows of the run, built from events only.
type RunState struct {
	Hosts []Host
	Steps []fleet.Step
	// Started and Ended come from the run-wide start and done events.
	Started  time.Time
	Ended    time.Time
	Finished bool
	Failed   bool   // the run itself failed (not a host)
	Message  string // the run's final message
	Log      []LogLine
	index    map[string]int
}

// maxLog bounds each host's kept log.
const maxLog = 500

// NewRunState starts the state of a run over rows, each host queued; steps
// are a host's steps (fleet.Steps).
func NewRunState(rows []HostRow, steps []fleet.Step) *RunState {
	s := &RunState{Steps: slices.Clone(steps), index: map[string]int{}}
	for _, r := range rows {
		s.addHost(r.Name, r.Batch)
	}
	return s
}

func (s *RunState) addHost(name string, batch int) *Host {
	s.index[name] = len(s.Hosts)
	s.Hosts = append(s.Hosts, Host{Name: name, Batch: batch, Status: StatusQueued, Done: map[fleet.Step]bool{},
		Took: map[fleet.Step]time.Duration{}})
	return &s.Hosts[len(s.Hosts)-1]
}

// Host returns the named host, or nil.
func (s *RunState) Host(name string) *Host {
	i, ok := s.index[name]
	if !ok {
		return nil
	}
	return &s.Hosts[i]
}

// ApplyPlan records the plan's changes (and failures) per host.
func (s *RunState) ApplyPlan(events []fleet.Event) {
	for _, e := range events {
		h := s.Host(e.Host)
		if h == nil {
			continue
		}
		switch {
		case e.Step == fleet.StepPreflight && e.Phase == fleet.PhaseDone:
			h.Changes, h.Planned = slices.Clone(e.Changes), true
			if resumes(e.Message) {
				_, r, _ := strings.Cut(e.Message, "resuming ")
				h.Resume = "resuming " + r
			}
		case e.Phase == fleet.PhaseFail:
			h.PlanError = fmt.Sprintf("%s: %s", e.Step, errText(e))
		}
		if e.Result != nil && len(e.Result.Units) > 0 {
			h.Units = slices.Clone(e.Result.Units)
		}
	}
}

// resumes reports whether a preflight's message says the host resumes an
// unfinished earlier run.
func resumes(msg string) bool { return strings.Contains(msg, "resuming ") }

// Apply folds one engine event into the state.
func (s *RunState) Apply(e fleet.Event) {
	line := LogLine{Time: e.Time, Step: e.Step, Phase: e.Phase, Text: eventText(e), Warn: e.Warning, Err: e.Phase == fleet.PhaseFail}
	if e.Host == "" {
		s.applyRun(e, line)
		return
	}
	h := s.Host(e.Host)
	if h == nil {
		h = s.addHost(e.Host, e.Batch)
	}
	if r := e.Result; r != nil && r.Status == fleet.StatusCancelled {
		// The operator cut the step off: the cause is the operator, and
		// the remote command's detail before it says nothing more.
		h.Log = dropDetail(h.Log, e.Step)
		line.Text, line.Err, line.Warn = "cancelled: stopped by the operator (ctrl+c twice)", false, true
	}
	h.Log = appendLog(h.Log, line)
	if e.Step == fleet.StepRollback {
		s.applyRollback(h, e)
		return
	}
	if e.Phase == fleet.PhaseInfo {
		return
	}
	if e.Batch >= 0 {
		h.Batch = e.Batch
	}
	if h.Started.IsZero() && e.Phase != fleet.PhaseHalted {
		h.Started = e.Time
	}
	if e.Step != fleet.StepRun {
		h.Step, h.Phase = e.Step, e.Phase
	}
	switch e.Phase {
	case fleet.PhaseStart:
		if h.Status == StatusQueued {
			h.Status = StatusRunning
		}
		if e.Step != fleet.StepRun {
			h.StepStarted = e.Time
		}
	case fleet.PhaseDone, fleet.PhaseSkip:
		if e.Step != fleet.StepRun {
			h.Done[e.Step] = true
			if e.Phase == fleet.PhaseDone && e.Duration > 0 {
				h.Took[e.Step] = e.Duration
			}
		}
		if e.Step == fleet.StepPreflight && e.Changes != nil {
			h.Changes = slices.Clone(e.Changes)
		}
	case fleet.PhaseFail:
		h.Status, h.FailedStep, h.Error, h.Ended = StatusFailed, e.Step, errText(e), e.Time
	case fleet.PhaseHalted:
		h.Status, h.Ended = StatusHalted, e.Time
	}
	if e.Result != nil {
		h.applyResult(*e.Result, e.Time)
	}
}

// applyRun folds an event of the whole run (no host) into the state.
func (s *RunState) applyRun(e fleet.Event, line LogLine) {
	s.Log = appendLog(s.Log, line)
	if e.Step != fleet.StepRun {
		return
	}
	switch e.Phase {
	case fleet.PhaseStart:
		s.Started = e.Time
	case fleet.PhaseDone:
		s.Finished, s.Ended, s.Message = true, e.Time, e.Message
	case fleet.PhaseFail:
		// The run could not run at all (the engine's error).
		s.Finished, s.Failed, s.Ended, s.Message = true, true, e.Time, errText(e)
	}
}

// applyResult folds a host's final result, which came at time at, into h.
func (h *Host) applyResult(r fleet.HostResult, at time.Time) {
	h.Result, h.Ended = &r, at
	h.Status = statusOf(r.Status)
	if len(r.Units) > 0 {
		h.Units = slices.Clone(r.Units)
	}
	if r.Error != "" {
		h.Error = r.Error
	}
	if (r.Status == fleet.StatusFailed || r.Status == fleet.StatusCancelled) && r.Step != "" {
		h.FailedStep = r.Step
	}
	if r.Status == fleet.StatusCancelled {
		h.Error = cancelCause(h.FailedStep)
	}
}

// cancelCause is why a host was cancelled, cause first, on one line.
func cancelCause(at fleet.Step) string {
	return "stopped by the operator (ctrl+c twice) during " + string(at)
}

// dropDetail removes the step's informational lines at the log's end: the
// whole remote command behind an error (fleet's detail), which tells
// nothing of a step the operator cut off.
func dropDetail(l []LogLine, step fleet.Step) []LogLine {
	for len(l) > 0 {
		last := l[len(l)-1]
		if last.Phase != fleet.PhaseInfo || last.Warn || last.Step != step {
			break
		}
		l = l[:len(l)-1]
	}
	return l
}

func (s *RunState) applyRollback(h *Host, e fleet.Event) {
	switch e.Phase {
	case fleet.PhaseStart:
		if h.Status != StatusRollingBack {
			h.beforeRollback = h.Status
		}
		h.Status = StatusRollingBack
	case fleet.PhaseDone:
		h.Status = StatusRolledBack
	case fleet.PhaseSkip:
		h.Status = cmp.Or(h.beforeRollback, StatusQueued)
	case fleet.PhaseFail:
		h.Status, h.Error = StatusRollbackFailed, errText(e)
	case fleet.PhaseHalted:
		// Halted before its rollback step: nothing was undone.
		h.Status = cmp.Or(h.beforeRollback, StatusQueued)
	}
	if e.Result != nil {
		rc := *e.Result
		h.Rollback = &rc
	}
}

func statusOf(s fleet.Status) Status {
	switch s {
	case fleet.StatusOK:
		return StatusOK
	case fleet.StatusUnchanged:
		return StatusUnchanged
	case fleet.StatusFailed:
		return StatusFailed
	case fleet.StatusHalted:
		return StatusHalted
	case fleet.StatusCancelled:
		return StatusCancelled
	case fleet.StatusNotStarted:
		return StatusNotStarted
	case fleet.StatusRolledBack:
		return StatusRolledBack
	}
	return Status(s)
}

func errText(e fleet.Event) string {
	if e.Message != "" {
		return e.Message
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return "failed"
}

// eventText is an event as one log line (without time and step).
func eventText(e fleet.Event) string {
	var b strings.Builder
	b.WriteString(string(e.Phase))
	if e.Warning {
		b.Reset()
		b.WriteString("warn")
	}
	if e.Duration > 0 {
		b.WriteString(" " + duration.Format(e.Duration))
	}
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if msg != "" {
		b.WriteString("  " + msg)
	}
	return b.String()
}

func appendLog(l []LogLine, line LogLine) []LogLine {
	// A message may hold several lines (a command's output): each is a log
	// line of its own.
	parts := strings.Split(strings.TrimRight(line.Text, "\n"), "\n")
	for i, p := range parts {
		ll := line
		ll.Text = p
		if i > 0 {
			ll.Text = "    " + p
		}
		l = append(l, ll)
	}
	if len(l) > maxLog {
		l = slices.Delete(l, 0, len(l)-maxLog)
	}
	return l
}

// Counts are the header's numbers.
type Counts struct {
	Total, Queued, Running, OK, Unchanged, Failed, Halted, NotStarted, Cancelled, RolledBack, RollingBack int
}

// Counts tallies hosts by status.
func (s *RunState) Counts() Counts {
	c := Counts{Total: len(s.Hosts)}
	for _, h := range s.Hosts {
		switch h.Status {
		case StatusQueued:
			c.Queued++
		case StatusRunning:
			c.Running++
		case StatusOK:
			c.OK++
		case StatusUnchanged:
			c.Unchanged++
		case StatusFailed, StatusRollbackFailed:
			c.Failed++
		case StatusHalted:
			c.Halted++
		case StatusNotStarted:
			c.NotStarted++
		case StatusCancelled:
			c.Cancelled++
		case StatusRolledBack:
			c.RolledBack++
		case StatusRollingBack:
			c.RollingBack++
		}
	}
	return c
}

// HostProgress is the share of a host's steps done, 0..1: a host that
// ended its rollout is 1 whatever its outcome; one the run halted or cut
// off counts the steps it did, one it never started 0.
func (s *RunState) HostProgress(h *Host) float64 {
	switch h.Status {
	case StatusNotStarted:
		return 0
	case StatusHalted, StatusCancelled:
	default:
		if h.Status.finished() {
			return 1
		}
	}
	n := 0
	for _, st := range s.Steps {
		if h.Done[st] {
			n++
		}
	}
	return float64(n) / float64(len(s.Steps))
}

// Progress is the run's share done, 0..1; a run that halted stays short
// of 1 by the hosts it never took.
func (s *RunState) Progress() float64 {
	if len(s.Hosts) == 0 {
		return 0
	}
	sum := 0.0
	for i := range s.Hosts {
		sum += s.HostProgress(&s.Hosts[i])
	}
	return sum / float64(len(s.Hosts))
}

// Elapsed is the run's time so far (or its whole time once finished).
func (s *RunState) Elapsed(now time.Time) time.Duration {
	switch {
	case s.Started.IsZero():
		return 0
	case s.Finished:
		return s.Ended.Sub(s.Started)
	}
	return max(now.Sub(s.Started), 0)
}

// HostElapsed is how long the host has been (or was) at work.
func (s *RunState) HostElapsed(h *Host, now time.Time) time.Duration {
	if h.Started.IsZero() {
		return 0
	}
	if !h.Ended.IsZero() && h.Status != StatusRunning {
		return h.Ended.Sub(h.Started)
	}
	return max(now.Sub(h.Started), 0)
}

// CanRollBack says whether the host can be rolled back now, and if not why.
func (h *Host) CanRollBack() (bool, string) {
	switch h.Status {
	case StatusOK, StatusRollbackFailed:
		return true, ""
	case StatusFailed, StatusCancelled:
		if !h.touched() {
			return false, h.Name + " failed before any change: nothing to roll back"
		}
		return true, ""
	case StatusHalted:
		if !h.touched() {
			return false, h.Name + " halted before any change: nothing to roll back"
		}
		return true, ""
	case StatusQueued, StatusNotStarted:
		return false, h.Name + " has not started: nothing to roll back"
	case StatusRunning:
		return false, h.Name + " is still running: roll it back once it has finished"
	case StatusUnchanged:
		return false, h.Name + " was already at the target: this run changed nothing there"
	case StatusRollingBack:
		return false, h.Name + " is being rolled back"
	case StatusRolledBack:
		return false, h.Name + " is already rolled back"
	}
	return false, "cannot roll back " + h.Name
}

// touched reports whether the run may have changed the host, so that it
// has a run to undo: files changed, or a step that acts failed there or
// was done (or skipped, as a resumed run skips what an earlier try did).
func (h *Host) touched() bool {
	if h.Result != nil && h.Result.Changed > 0 || fleet.Acts(h.FailedStep) {
		return true
	}
	for st, done := range h.Done {
		if done && fleet.Acts(st) {
			return true
		}
	}
	return false
}

// RunID is the run a rollback of the host undoes: the one its result names
// (a resumed run keeps the earlier run's id), "" when unknown.
func (h *Host) RunID() string {
	if h.Result != nil {
		return h.Result.RunID
	}
	return ""
}
