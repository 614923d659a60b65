package fleet

import (
	"context"
	"fmt"
	"github.com/fleetfix/fleetfix/inventory"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// RollbackOptions configure a rollback.
type RollbackOptions struct {
	Inventory *inventory.Inventory
	Targets   []inventory.Target
	Dial      Dialer
	Reporter  Reporter
	// RunID picks the run to undo; "" means each host's latest run that is
	// not rolled back yet.
	RunID    string
	StateDir string
	// Timeout bounds one host's rollback. It runs detached from the caller's
	// cancellation: a rollback cut off half-way would leave a mixed host.
	Timeout time.Duration
	// Halt, when closed, starts no new host's rollback.
	Halt <-chan struct{}
}

// Rollback puts each target back as it was before a run, from the manifest
// and backups on the host itself: files restored (checked against the
// recorded sha256), files the run created removed, daemon-reload, restart,
// health check. Hosts run in parallel up to the policy's MaxParallel.
func Rollback(ctx context.Context, o RollbackOptions) (*Summary, error) {
	if o.RunID != "" && !ValidRunID(o.RunID) {
		return nil, fmt.Errorf("run id %q: want the form YYYYMMDD_HHMMSS", o.RunID)
	}
	r, err := newRunner(Options{Inventory: o.Inventory, Dial: o.Dial, Reporter: o.Reporter, StateDir: o.StateDir})
	if err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	targets := o.Targets
	if targets == nil {
		targets = o.Inventory.Hosts
	}
	start := time.Now()
	results := make([]HostResult, len(targets))
	sem := make(chan struct{}, max(o.Inventory.Rollout.MaxParallel, 1))
	var wg sync.WaitGroup
	for i, t := range targets {
		results[i] = HostResult{Host: t.Name, Batch: -1, Status: StatusNotStarted}
		select {
		case <-o.Halt:
			continue
		case <-ctx.Done():
			continue
		case sem <- struct{}{}:
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.Timeout)
			defer cancel()
			results[i] = r.runHost(hctx, t, -1, rollbackFlow(o.RunID, o.Timeout))
		}()
	}
	wg.Wait()
	return &Summary{Hosts: results, Duration: time.Since(start)}, nil
}

// rollback is the rollback flow's one step: connect, take the lock, pick
// the run to undo (runID, or the latest not rolled back) and undo it.
func (hr *hostRun) rollback(ctx context.Context, runID string) (string, error) {
	if _, err := hr.connect(ctx); err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	if err := hr.lock(ctx); err != nil {
		return "", err
	}
	m, err := pickRun(ctx, hr.h, runID)
	if err != nil {
		return "", err
	}
	if m == nil {
		hr.endEarly(StatusUnchanged, "no run to roll back on this host")
		return "", nil
	}
	hr.setManifest(m)
	hr.cleanTemps(ctx, m)
	n, err := hr.r.undo(ctx, hr.h, m)
	hr.res.Changed = n
	if err != nil {
		return "", fmt.Errorf("run %s: %w", m.RunID, err)
	}
	return "", nil
}

// undo restores the files of m, reloads systemd, restarts the units that were
// active before the run and checks them. It is idempotent: files already as
// they were are left alone.
func (r *runner) undo(ctx context.Context, h Host, m *Manifest) (int, error) {
	n := 0
	for _, c := range slices.Backward(m.Changes) {
		fi, err := h.Stat(ctx, c.Path)
		if err != nil {
			return n, fmt.Errorf("stat %s: %w", c.Path, err)
		}
		switch {
		case c.Existed && fi.Exists && fi.SHA256 == c.OldSHA256 && octalMode(fi.Mode) == c.OldMode && fi.Owner+":"+fi.Group == c.OldOwner:
			continue // as it was
		case c.Existed:
			if _, err := runScript(ctx, h, scriptRestore, c.Path, c.Backup, c.OldSHA256); err != nil {
				return n, fmt.Errorf("restore %s: %w", c.Path, err)
			}
			// Check what is there now, byte, mode and owner.
			after, err := h.Stat(ctx, c.Path)
			if err != nil {
				return n, err
			}
			if after.SHA256 != c.OldSHA256 || octalMode(after.Mode) != c.OldMode || after.Owner+":"+after.Group != c.OldOwner {
				return n, fmt.Errorf("restored %s is %s %s %s:%s, recorded %s %s %s", c.Path, short(after.SHA256), octalMode(after.Mode), after.Owner, after.Group, short(c.OldSHA256), c.OldMode, c.OldOwner)
			}
		case fi.Exists && fi.SHA256 != c.NewSHA256:
			// Not what the run wrote: someone put it there since; it stays.
			r.info(h.Name(), StepRollback, true, fmt.Sprintf("%s was created by run %s but has changed since (sha256 %s): left in place", c.Path, m.RunID, short(fi.SHA256)))
			continue
		case fi.Exists:
			if _, err := h.Run(ctx, "rm", "-f", "--", c.Path); err != nil {
				return n, fmt.Errorf("remove %s: %w", c.Path, err)
			}
		}
		if !c.Existed && c.CreatedDir != "" {
			if err := removeCreatedDirs(ctx, h, c); err != nil {
				return n, err
			}
		}
		n++
	}
	if n == 0 && countDone(m) == 0 {
		return 0, nil // the run changed nothing here: no reload, no restart
	}
	if _, err := h.Run(ctx, "systemctl", "daemon-reload"); err != nil {
		return n, fmt.Errorf("daemon-reload: %w", err)
	}
	for _, u := range m.Units {
		if u.Props["ActiveState"] != "active" {
			// The rollout's restart started it: as it was is stopped.
			if _, err := h.Run(ctx, "systemctl", "stop", "--", u.Unit); err != nil {
				return n, fmt.Errorf("stop %s: %w", u.Unit, err)
			}
			continue
		}
		svc := inventory.Service{Unit: u.Unit, Health: inventory.Health{Timeout: 15 * time.Second}}
		for _, s := range r.services {
			if s.Unit == u.Unit {
				svc = s
			}
		}
		if err := health(ctx, h, svc, "restart", 0); err != nil {
			return n, err
		}
	}
	return n, nil
}

// removeCreatedDirs removes the directories a run created for c, deepest
// first, each only if empty: files someone else put there since stay.
func removeCreatedDirs(ctx context.Context, h Host, c Change) error {
	if !strings.HasPrefix(c.Path, c.CreatedDir+"/") {
		return fmt.Errorf("recorded directory %s does not hold %s", c.CreatedDir, c.Path)
	}
	var dirs []string
	for d := path.Dir(c.Path); ; d = path.Dir(d) {
		dirs = append(dirs, d)
		if d == c.CreatedDir {
			break
		}
	}
	if _, err := runScript(ctx, h, scriptRemoveDirs, dirs...); err != nil {
		return fmt.Errorf("remove %s: %w", c.CreatedDir, err)
	}
	return nil
}

// pickRun finds the run to undo: the one named, or the newest that changed
// something and is not rolled back yet. Runs are undone newest first: undoing
// an older run under a newer one would restore files the newer one expects
// to find, and its own rollback would then put back the wrong bytes.
func pickRun(ctx context.Context, h Host, runID string) (*Manifest, error) {
	var picked *Manifest
	newer := "" // the newest undoable run above the one named
	err := eachRun(ctx, h, func(m *Manifest) (bool, error) {
		undoable := m.State != StateRolledBack && countDone(m) > 0
		switch {
		case runID == "" && undoable:
			picked = m
			return true, nil
		case runID != "" && m.RunID == runID:
			if m.State == StateRolledBack {
				return true, fmt.Errorf("run %s is already rolled back", runID)
			}
			if newer != "" {
				return true, fmt.Errorf("run %s is newer than %s and not rolled back: roll it back first", newer, runID)
			}
			picked = m
			return true, nil
		case undoable && newer == "":
			newer = m.RunID
		}
		return false, nil
	})
	if err == nil && picked == nil && runID != "" {
		err = fmt.Errorf("no run %s on this host", runID)
	}
	return picked, err
}
