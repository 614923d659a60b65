package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
)

// PruneOptions configure a prune.
type PruneOptions struct {
	Inventory *inventory.Inventory
	Targets   []inventory.Target
	Dial      Dialer
	Reporter  Reporter
	// Keep is how many of each host's newest runs stay, whatever their
	// state.
	Keep int
	// DryRun changes nothing and reports what would be removed.
	DryRun bool
	// Timeout bounds one host's prune; it runs detached from the caller's
	// cancellation, as a rollback does.
	Timeout time.Duration
	// Halt, when closed, starts no new host's prune; a host that has not
	// begun its prune step stops before it.
	Halt <-chan struct{}
}

// DefaultKeep is how many runs a prune keeps on each host unless told.
const DefaultKeep = 3

// Prune removes from each target the backups (<path>.bak.<run id>) and the
// manifest of every run older than its newest o.Keep that is complete or
// rolled back: backups pile up, one per file per run. A run that is
// running, failed, halted or in any other state may still be resumed or
// rolled back, and stays. It holds each host's lock while it works.
func Prune(ctx context.Context, o PruneOptions) (*Summary, error) {
	if o.Keep < 0 {
		return nil, cannotStart(o.Reporter, StepPrune, fmt.Errorf("keep %d: want 0 or more", o.Keep))
	}
	if o.DryRun && o.Dial != nil {
		o.Dial = DryDialer(o.Dial, o.Reporter)
	}
	r, err := newRunner(Options{Inventory: o.Inventory, Dial: o.Dial, Reporter: o.Reporter})
	if err != nil {
		return nil, cannotStart(o.Reporter, StepPrune, err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	return r.each(ctx, o.Targets, o.Halt, o.Timeout, pruneFlow(o.Inventory.Rollout.Timeouts, o.Keep, o.DryRun)), nil
}

// prune is the prune step, under the host's lock: it picks the runs to
// prune and removes their backups, then their manifests, in one session.
func (hr *hostRun) prune(ctx context.Context, keep int, dry bool) (string, error) {
	var old []*Manifest
	runs := 0
	err := eachRun(ctx, hr.h, func(m *Manifest) (bool, error) {
		if runs++; runs > keep && (m.State == StateComplete || m.State == StateRolledBack) {
			old = append(old, m)
		}
		return false, nil
	})
	if err != nil {
		return "", err
	}
	if len(old) == 0 {
		hr.endEarly(StatusUnchanged, fmt.Sprintf("nothing to prune: %d run(s), the newest %d kept and the others unfinished", runs, keep))
		return "", nil
	}
	var files []string
	planned := 0 // backups and manifests
	for _, m := range old {
		backups, err := runBackups(m)
		if err != nil {
			return "", err
		}
		verb := "removing"
		if dry {
			verb = "would remove"
		}
		hr.r.info(hr.t.Name, StepPrune, false, fmt.Sprintf("%s run %s (%s): %d backup(s) and its manifest", verb, m.RunID, m.State, len(backups)))
		// Backups first, the manifest last: a prune cut off half-way
		// leaves a manifest that still names what is left. The run's
		// stored summary and its guard's record, where it has them, go
		// with it.
		files = append(append(files, backups...), RemoteSummaryPath(m.RunID), guardRecord(m.RunID), m.remotePath())
		planned += len(backups) + 1
	}
	out, err := hr.h.Run(ctx, append([]string{"rm", "-fv", "--"}, files...)...)
	if err != nil {
		return "", fmt.Errorf("remove: %w", err)
	}
	// What rm says it removed: a run may have no summary or guard record.
	hr.res.Changed = strings.Count(string(out), "removed ")
	if dry {
		hr.res.Changed = planned
	}
	return "", nil
}

// runBackups lists the backups m records. Each must be named as a backup
// of that run: a prune removes what the manifest says, and a manifest is
// only a file on the host.
func runBackups(m *Manifest) ([]string, error) {
	var out []string
	for _, c := range m.Changes {
		if c.Backup == "" {
			continue
		}
		i := strings.LastIndex(c.Backup, ".bak.")
		if i < 0 || c.Backup[:i] != c.Path || !ValidRunID(c.Backup[i+len(".bak."):]) {
			return nil, errors.New("run " + m.RunID + " records a backup " + c.Backup + " that is not <path>.bak.<run id> of " + c.Path + ": pruning nothing")
		}
		out = append(out, c.Backup)
	}
	return out, nil
}
