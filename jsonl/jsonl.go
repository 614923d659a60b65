// Package jsonl is fleetfix's JSON lines output (--output json): the wire
// types of every line, as the README's "JSON lines output" section documents
// them (schema Schema), and the Writer that emits them. The CLI writes these
// lines; bench reads them back with the same types.
package jsonl

import (
	"time"

	"github.com/fleetfix/fleetfix/fleet"
)

// Schema is the version of the JSON lines output; every line carries it.
const Schema = 1

// Line types, the "type" field of every line.
const (
	TypeEvent   = "event"
	TypeSummary = "summary"
	TypeScan    = "scan"
)

// Head is what every line starts with: enough to pick the type to decode.
type Head struct {
	Schema int    `json:"schema"`
	Type   string `json:"type"`
}

// Event is a line of type "event": one step phase of a host or of the run.
type Event struct {
	Schema     int            `json:"schema"`
	Type       string         `json:"type"`
	Time       time.Time      `json:"time"`
	RunID      string         `json:"run_id,omitempty"`
	Host       string         `json:"host,omitempty"`
	Step       fleet.Step     `json:"step"`
	Phase      fleet.Phase    `json:"phase"`
	Batch      *int           `json:"batch,omitempty"`
	DurationMS float64        `json:"duration_ms,omitempty"`
	Message    string         `json:"message,omitempty"`
	Warning    bool           `json:"warning,omitempty"`
	Error      string         `json:"error,omitempty"`
	Changes    []fleet.Change `json:"changes,omitempty"`
	Result     *Host          `json:"result,omitempty"`
}

// Summary is the last line of a run, of type "summary".
type Summary struct {
	Schema     int     `json:"schema"`
	Type       string  `json:"type"`
	Command    string  `json:"command"`
	RunID      string  `json:"run_id,omitempty"`
	OK         bool    `json:"ok"`
	Halted     bool    `json:"halted"`
	Failed     int     `json:"failed"`
	Cancelled  int     `json:"cancelled,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	Hosts      []Host  `json:"hosts"`

	// A stored summary (the run's record, NewRecord) also says when the
	// run started, who ran it from where, and under what policy; the
	// summary line leaves them out.
	Started    time.Time `json:"started,omitzero"`
	User       string    `json:"user,omitempty"`
	Controller string    `json:"controller,omitempty"`
	Inventory  string    `json:"inventory,omitempty"`
	Policy     *Policy   `json:"policy,omitempty"`
}

// Policy is the rollout policy a stored run ran under, with each unit's
// bounds on its stop.
type Policy struct {
	Canary        int    `json:"canary"`
	Batch         string `json:"batch"`
	MaxParallel   int    `json:"max_parallel"`
	FailureBudget string `json:"failure_budget"`
	// Reboot: the run cold-rebooted the hosts (the policy's reboot, less
	// --no-reboot).
	Reboot           bool         `json:"reboot"`
	OnFailure        string       `json:"on_failure,omitempty"`
	Restart          string       `json:"restart,omitempty"`
	SettleMS         float64      `json:"settle_ms,omitempty"`
	ConfirmTimeoutMS float64      `json:"confirm_timeout_ms,omitempty"`
	Units            []UnitPolicy `json:"units"`
}

// UnitPolicy is a unit's bounds: the old build's stop at the restart
// (old_stop_timeout) and what its stop at the reboot must show (verify).
type UnitPolicy struct {
	Unit             string  `json:"unit"`
	OldStopTimeoutMS float64 `json:"old_stop_timeout_ms,omitempty"`
	MaxStopMS        float64 `json:"max_stop_ms,omitempty"`
	AllowSIGKILL     bool    `json:"allow_sigkill,omitempty"`
	MinInFlight      int     `json:"min_in_flight,omitempty"`
}

// Host is how one host's work ended, in a summary or an event's result.
type Host struct {
	Host      string  `json:"host"`
	Batch     int     `json:"batch"`
	Status    string  `json:"status"`
	Step      string  `json:"step,omitempty"`
	Error     string  `json:"error,omitempty"`
	Changed   int     `json:"changed"`
	RestartMS float64 `json:"restart_ms,omitempty"`
	TimeMS    float64 `json:"duration_ms"`
	RunID     string  `json:"run_id,omitempty"`
	// Units are the host's services (rollouts and plans).
	Units []string `json:"units,omitempty"`
	// Reboot and Timings are present when the host was rebooted.
	Reboot  *Reboot  `json:"reboot,omitempty"`
	Timings []Timing `json:"timings,omitempty"`
	// Changes are the files the run changed on the host (old -> new
	// sha256, backup), as its manifest records them.
	Changes []fleet.Change `json:"changes,omitempty"`
}

// Reboot is how a host's cold reboot went: down, back and active are the
// controller's (from the reboot command), the others the host's journal.
type Reboot struct {
	OldBootID string  `json:"old_boot_id"`
	NewBootID string  `json:"new_boot_id"`
	DownMS    float64 `json:"down_ms"`
	BackMS    float64 `json:"back_ms"`
	ActiveMS  float64 `json:"active_ms"`
	NoticedMS float64 `json:"noticed_ms,omitempty"`
	// SSHDStoppedMS: the reboot asked for -> sshd's "Stopped" record.
	SSHDStoppedMS float64 `json:"sshd_stopped_ms,omitempty"`
	// ShutdownMS: the reboot asked for -> the old boot's last record.
	ShutdownMS float64 `json:"shutdown_ms,omitempty"`
}

// Stop is one unit's stop at one shutdown.
type Stop struct {
	Unit   string    `json:"unit"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	StopMS float64   `json:"stop_ms"`
	Killed bool      `json:"killed"`
	// KilledOnRequest: the SIGKILL was fleetfix's (old_stop_timeout at the
	// restart), not systemd's after the stop timeout.
	KilledOnRequest bool   `json:"killed_on_request,omitempty"`
	Result          string `json:"result"`
	// Unfinished: the journal ends mid-stop; stop_ms is a lower bound.
	Unfinished bool `json:"unfinished,omitempty"`
	// Source is the shutdown the stop was read at, in a stored summary:
	// SourceRestart, SourceReboot or SourcePrevious.
	Source string `json:"source,omitempty"`
}

// Sources of a stop in a stored summary.
const (
	SourceRestart  = "restart"           // the old build's stop at the rollout's restart
	SourceReboot   = "reboot"            // the run's cold reboot
	SourcePrevious = "previous-shutdown" // the shutdown that ended the boot before the run's
)

// Timing is one unit's stop before the fix and after it; a missing side has
// a note saying why.
type Timing struct {
	Unit       string `json:"unit"`
	Before     *Stop  `json:"before,omitempty"`
	After      *Stop  `json:"after,omitempty"`
	BeforeNote string `json:"before_note,omitempty"`
	AfterNote  string `json:"after_note,omitempty"`
	// BeforeInFlight and InFlight are the unit's established TCP
	// connections just before the restart and just before the reboot;
	// absent when not counted.
	BeforeInFlight *int `json:"before_in_flight,omitempty"`
	InFlight       *int `json:"in_flight,omitempty"`
	// Previous is the unit's stop at the previous boot's shutdown
	// (PreviousBoot), beside the before measured at the restart.
	Previous          *Stop  `json:"previous,omitempty"`
	PreviousBoot      string `json:"previous_boot,omitempty"`
	PreviousNote      string `json:"previous_note,omitempty"`
	PreviousChangedBy string `json:"previous_changed_by,omitempty"`
	// Idle: the unit had no connection in flight when the reboot began, so
	// its clean stop proves nothing.
	Idle bool `json:"idle,omitempty"`
}

// Scan is scan's single line, of type "scan".
type Scan struct {
	Schema     int        `json:"schema"`
	Type       string     `json:"type"`
	DurationMS float64    `json:"duration_ms"`
	Hosts      []ScanHost `json:"hosts"`
}

// ScanHost is one host's last shutdown.
type ScanHost struct {
	Host       string     `json:"host"`
	ShutdownMS float64    `json:"shutdown_ms,omitempty"`
	Note       string     `json:"note,omitempty"`
	Error      string     `json:"error,omitempty"`
	Units      []ScanUnit `json:"units"`
}

// ScanUnit is a unit's stop at that shutdown, with its stop settings.
type ScanUnit struct {
	Stop
	TimeoutStop string `json:"timeout_stop"`
	KillMode    string `json:"kill_mode"`
}
