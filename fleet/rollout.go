package fleet

import (
	"os"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/sshcfg"
)

// Options configure a rollout (or a plan: a rollout with a dry Dialer).
type Options struct {
	Inventory *inventory.Inventory
	// Targets are the hosts to roll out to, in order; nil means every host.
	Targets  []inventory.Target
	Dial     Dialer
	Reporter Reporter
	// RunID names this run's backups and manifests; default NewRunID(now).
	RunID string
	// StateDir keeps a local copy of every manifest; "" keeps none.
	StateDir string
	// LastStep, when set, ends each host's work after that step
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
	// SSHConfig is the operator's ssh_config, nil for none: the jump
	// chains that order the run (a bastion before the hosts behind it)
	// are resolved with it, as the dialer resolves them. The dialer has
	// its own copy (ConnectOptions.SSHConfig); pass the same one.
	SSHConfig *sshcfg.Config
	// plan, set by PlanOptions, is the policy line of the run a plan plans:
	// the plan's events say what that run would do.
	plan string
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
	// StatusCancelled: the operator stopped the run now (the second
	// Ctrl-C) while a step ran; not a failure of the host.
	StatusCancelled Status = "cancelled"
)

// HostResult is how one host's work ended.
type HostResult struct {
	Host        string
	Batch       int
	Status      Status
	Step        Step // the failed or halted step
	Error       string
	Changed     int // files changed
	RestartTime time.Duration
	Duration    time.Duration
	RunID       string
	// Units are the host's services, the ones that select it (rollouts
	// and plans).
	Units []string
	// Reboot and Timings are set when the host was rebooted.
	Reboot  *RebootTiming
	Timings []UnitTiming
	// Changes are the files the run changed on the host, as its manifest
	// records them, for the run's stored summary.
	Changes []Change
	err     error
}

// Failed reports whether the host failed, whether or not it was rolled
// back after (status rolled-back with the failed step): either way it
// counts against the failure budget and fails a canary.
func (r HostResult) Failed() bool {
	return r.Status == StatusFailed || r.Status == StatusRolledBack && r.Step != ""
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

// Failed counts hosts that failed, rolled back after or not.
func (s *Summary) Failed() int { return s.count(HostResult.Failed) }

// Cancelled counts hosts whose step the operator cut off.
func (s *Summary) Cancelled() int {
	return s.count(func(h HostResult) bool { return h.Status == StatusCancelled })
}

func (s *Summary) count(is func(HostResult) bool) int {
	n := 0
	for _, h := range s.Hosts {
		if is(h) {
			n++
		}
	}
	return n
}

// OK reports whether every host ended ok, unchanged or rolled back by a
// rollback (not after a failure).
func (s *Summary) OK() bool {
	for _, h := range s.Hosts {
		if h.Failed() || h.Status != StatusOK && h.Status != StatusUnchanged && h.Status != StatusRolledBack {
			return false
		}
	}
	return true
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
		p.ResumedBy = append(p.ResumedBy, r.runID)
		return p
	}
	name, _ := os.Hostname()
	return &Manifest{
		Schema: ManifestSchema, RunID: r.runID, Host: host, Controller: name,
		Started: time.Now().UTC(), State: StateRunning, Units: f.Units, Changes: f.Changes,
	}
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
