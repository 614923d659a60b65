package fleet

import (
	"fmt"
	"time"
)

// Step names a stage of a host's work. Events, errors, manifests and
// reports all use these names.
type Step string

// The steps: a rollout's, in the order it runs them, then the other
// commands' and the run's own.
const (
	StepConnect   Step = "connect"
	StepPreflight Step = "preflight"
	StepBackup    Step = "backup"
	StepPush      Step = "push"
	StepDropIn    Step = "dropin"
	StepReload    Step = "reload"
	StepRestart   Step = "restart"
	StepSettle    Step = "settle" // only with rollout.settle
	StepGuard     Step = "guard"  // the dead-man switch, before the reboot
	StepReboot    Step = "reboot"
	StepJournal   Step = "journal"
	StepVerify    Step = "verify"
	StepConfirm   Step = "confirm" // the guard's removal, once every check passed
	StepRollback  Step = "rollback"
	StepPrune     Step = "prune"
	StepUnlock    Step = "unlock" // an unlock's work on a host, and its outcome
	StepScan      Step = "scan"   // a scan as a whole, and a host's outcome of it
	StepRun       Step = "run"    // the run as a whole (batches, summary)
)

// Phase is where in a step an event stands.
type Phase string

// Phases of a step. A host's final event carries its Result: PhaseDone,
// or PhaseSkip when it had nothing to do, with Step the flow's (StepRun for
// a rollout or a reboot, StepRollback, StepPrune, StepUnlock, StepScan);
// PhaseFail with Step the step that failed, or the flow's when no step did
// (its record failed to save); or PhaseHalted with Step the step it stopped
// at, or the flow's for a host the command never started.
const (
	PhaseStart  Phase = "start"
	PhaseDone   Phase = "done"
	PhaseFail   Phase = "fail"
	PhaseSkip   Phase = "skip"   // nothing to do (already at target)
	PhaseInfo   Phase = "info"   // a log line: a command run, a warning, a plan line
	PhaseHalted Phase = "halted" // stopped at a step boundary by the failure budget or an abort
)

// Event is one thing that happened. The engine emits them; the TUI, plain
// text and JSON lines consumers render them.
type Event struct {
	Time     time.Time
	Host     string // "" for run-wide events
	Step     Step
	Phase    Phase
	Batch    int // 0 = canary, 1.. = batches; -1 when not applicable
	Duration time.Duration
	Message  string
	Warning  bool
	Err      error
	// Changes lists file changes (preflight: planned; push/dropin: done).
	Changes []Change
	// Result is set on a host's final event.
	Result *HostResult
}

// Reporter receives events. Report must not block for long: it is called
// from the hosts' goroutines, concurrently.
type Reporter interface {
	Report(Event)
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(Event)

// Report calls f.
func (f ReporterFunc) Report(e Event) { f(e) }

// HostError is a failure of one host at one step.
type HostError struct {
	Host string
	Step Step
	Err  error
}

func (e *HostError) Error() string { return fmt.Sprintf("%s: %s: %v", e.Host, e.Step, e.Err) }

// Unwrap returns the underlying error.
func (e *HostError) Unwrap() error { return e.Err }
