package fleet

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/remote"
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
	// Halt, when closed, starts no new host's rollback; a host that has
	// not begun its rollback step stops before it.
	Halt <-chan struct{}
	// Force restores files edited since the run (an operator's hotfix)
	// rather than refusing the host's rollback.
	Force bool
}

// undoTimeout is a host's rollback's time when nobody sets one.
const undoTimeout = 5 * time.Minute

// Rollback puts each target back as it was before a run, from the manifest
// and backups on the host itself: files restored (checked against the
// recorded sha256), files the run created removed, daemon-reload, restart,
// health check. Hosts run in parallel up to the policy's MaxParallel.
func Rollback(ctx context.Context, o RollbackOptions) (*Summary, error) {
	if o.RunID != "" && !ValidRunID(o.RunID) {
		return nil, cannotStart(o.Reporter, StepRollback, fmt.Errorf("run id %q: want the form YYYYMMDD_HHMMSS", o.RunID))
	}
	r, err := newRunner(Options{Inventory: o.Inventory, Dial: o.Dial, Reporter: o.Reporter, StateDir: o.StateDir})
	if err != nil {
		return nil, cannotStart(o.Reporter, StepRollback, err)
	}
	if o.Timeout <= 0 {
		o.Timeout = undoTimeout
	}
	return r.each(ctx, o.Targets, o.Halt, o.Timeout, rollbackFlow(o.RunID, o.Timeout, o.Force)), nil
}

// each runs flow f on every target (nil: every host), in parallel up to the
// policy's MaxParallel, each detached from the caller's cancellation (unless
// the flow follows it) with timeout of its own, in the events of hostLoop. halt, when not nil, is the
// run's (Options.Halt): once it is closed or ctx ends, no new host starts,
// and a host in flight stops before its next step that acts.
func (r *runner) each(ctx context.Context, targets []inventory.Target, halt <-chan struct{}, timeout time.Duration, f flow) *Summary {
	if targets == nil {
		targets = r.opts.Inventory.Hosts
	}
	if halt != nil {
		r.opts.Halt = halt // before any host starts
	}
	n := max(r.opts.Inventory.Rollout.MaxParallel, 1)
	line := fmt.Sprintf("%s: %d host(s), %d at once", f.name, len(targets), n)
	return r.hostLoop(f.name, string(f.name), targets, line, func(results []HostResult) {
		sem := make(chan struct{}, n)
		var wg sync.WaitGroup
		for i, t := range targets {
			if !r.waitTurn(ctx, sem) {
				if ctx.Err() != nil {
					r.halt(errStopped)
				}
				continue
			}
			wg.Go(func() {
				defer func() { <-sem }()
				base := context.WithoutCancel(ctx)
				if f.follows {
					base = ctx
				}
				hctx, cancel := context.WithTimeout(base, timeout)
				defer cancel()
				results[i] = r.runHost(hctx, t, -1, f)
			})
		}
		wg.Wait()
	})
}

// connectNamed is the connect step of a flow reported whole: its error
// says it is the connect's.
func (hr *hostRun) connectNamed(ctx context.Context) (string, error) {
	if _, err := hr.connect(ctx); err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	return "", nil
}

// rollback is the rollback step, under the host's lock: pick the run to
// undo (runID, or the latest not rolled back) and undo it.
func (hr *hostRun) rollback(ctx context.Context, runID string, force bool) (string, error) {
	newest := true
	m, err := pickRun(ctx, hr.h, runID, func(m *Manifest) {
		if newest && strings.HasPrefix(m.Note, guardNotePrefix) {
			hr.r.info(hr.t.Name, StepRollback, true, restoredMessage(m.RunID, m.Note))
		}
		newest = false
	})
	if err != nil {
		return "", err
	}
	if m == nil {
		hr.endEarly(StatusUnchanged, "no run to roll back on this host")
		return "", nil
	}
	hr.setManifest(m)
	if err := removeGuard(ctx, hr.h, m); err != nil {
		return "", fmt.Errorf("run %s: %w", m.RunID, err)
	}
	hr.cleanTemps(ctx, m)
	n, err := hr.r.undo(ctx, hr.h, m, force)
	hr.res.Changed = n
	if err != nil {
		return "", fmt.Errorf("run %s: %w", m.RunID, err)
	}
	return "", nil
}

// undo puts back the files of m, reloads systemd, restarts the units that
// were active before the run and checks them. It is all or nothing where
// it can be: every backup and every file is checked, in one session, before
// anything is touched, and a corrupt backup or a file edited since the run
// (unless force) refuses the whole host. Once it has started, it restores
// all it can and always reloads and restarts. It is idempotent: files
// already as they were are left alone.
func (r *runner) undo(ctx context.Context, h Host, m *Manifest, force bool) (int, error) {
	acts, err := r.checkUndo(ctx, h, m, force)
	if err != nil {
		return 0, err
	}
	n, err := applyUndo(ctx, h, m, acts)
	if n == 0 && err == nil && countDone(m) == 0 {
		return 0, nil // the run changed nothing here: no reload, no restart
	}
	if err == nil {
		err = checkUndone(ctx, h, m)
	}
	return n, joinErrs(err, r.restartOld(ctx, h, m))
}

// undoAction is what a rollback does to one file of a run.
type undoAction int

const (
	undoKeep    undoAction = iota // as it was before the run: left alone
	undoRestore                   // the backup put back
	undoRemove                    // the file the run created removed
)

// checkUndo reads, in one read-only session, each file of m and each of its
// backups, and works out what undoing each file takes. A backup whose
// sha256 is not the recorded one fails it; so does a file that is neither
// what the run found nor what it wrote (edited since: an operator's
// hotfix), unless force. Each failure is named, and nothing was changed.
func (r *runner) checkUndo(ctx context.Context, h Host, m *Manifest, force bool) ([]undoAction, error) {
	targets := make([]fileTarget, 0, 2*len(m.Changes))
	for _, c := range m.Changes {
		targets = append(targets, fileTarget{Path: c.Path})
	}
	backup := make([]int, len(m.Changes)) // index of each change's backup in targets
	for i, c := range m.Changes {
		if c.Existed {
			backup[i] = len(targets)
			targets = append(targets, fileTarget{Path: c.Backup})
		}
	}
	st, err := readHost(ctx, h, nil, targets)
	if err != nil {
		return nil, err
	}
	acts := make([]undoAction, len(m.Changes))
	var corrupt, edited []string
	for i, c := range m.Changes {
		now := st.files[i].info
		if b := st.files[backup[i]].info; c.Existed && b.SHA256 != c.OldSHA256 {
			corrupt = append(corrupt, fmt.Sprintf("backup %s is %s, recorded sha256 %s", c.Backup, describeSum(b), short(c.OldSHA256)))
		}
		var changed bool
		acts[i], changed = undoOf(c, now)
		if changed {
			edited = append(edited, fmt.Sprintf("%s was edited since the run: sha256 old %s, new %s, current %s", c.Path, describeOld(c), short(c.NewSHA256), describeSum(now)))
		}
	}
	switch {
	case len(corrupt) > 0:
		return nil, fmt.Errorf("nothing changed: %s", strings.Join(corrupt, "; "))
	case len(edited) > 0 && !force:
		return nil, fmt.Errorf("nothing changed: %s (an operator's hotfix?): fleetfix rollback --force puts the old file back over it", strings.Join(edited, "; "))
	}
	for _, e := range edited {
		r.info(h.Name(), StepRollback, true, "--force: "+e)
	}
	return acts, nil
}

// undoOf is what undoing c takes with now at its path, and whether now is
// neither what the run found there nor what it wrote.
func undoOf(c Change, now remote.FileInfo) (undoAction, bool) {
	switch {
	case c.Existed && isOld(c, now):
		return undoKeep, false
	case c.Existed:
		return undoRestore, !now.Exists || now.SHA256 != c.OldSHA256 && now.SHA256 != c.NewSHA256
	case !now.Exists:
		return undoKeep, false
	}
	return undoRemove, now.SHA256 != c.NewSHA256
}

// isOld reports whether now is the file c found: bytes, mode and owner.
func isOld(c Change, now remote.FileInfo) bool {
	return now.Exists && now.SHA256 == c.OldSHA256 && octalMode(now.Mode) == c.OldMode && now.Owner+":"+now.Group == c.OldOwner
}

func describeSum(fi remote.FileInfo) string {
	switch {
	case !fi.Exists:
		return "missing"
	case fi.SHA256 == "":
		return "not a regular file"
	}
	return short(fi.SHA256)
}

func describeOld(c Change) string {
	if !c.Existed {
		return "none (created by the run)"
	}
	return short(c.OldSHA256)
}

// applyUndo restores and removes the files as acts say, in one session
// each, and removes the directories the run created. A file that fails does
// not stop the others. It returns how many files it restored or removed.
func applyUndo(ctx context.Context, h Host, m *Manifest, acts []undoAction) (int, error) {
	var restore, remove []string
	for i, c := range m.Changes {
		switch acts[i] {
		case undoRestore:
			restore = append(restore, c.Path, c.Backup, c.OldSHA256)
		case undoRemove:
			remove = append(remove, c.Path)
		}
	}
	n := 0
	var err error
	if len(restore) > 0 {
		out, rerr := runScript(ctx, h, scriptRestore, restore...)
		n += strings.Count(string(out), "restored ")
		if rerr != nil {
			err = fmt.Errorf("restore: %w", rerr)
		}
	}
	if len(remove) > 0 {
		if _, rerr := h.Run(ctx, append([]string{"rm", "-f", "--"}, remove...)...); rerr != nil {
			err = joinErrs(err, fmt.Errorf("remove %s: %w", strings.Join(remove, " "), rerr))
		} else {
			n += len(remove)
		}
	}
	for _, c := range m.Changes {
		if !c.Existed && c.CreatedDir != "" {
			err = joinErrs(err, removeCreatedDirs(ctx, h, c))
		}
	}
	return n, err
}

// checkUndone reads the files back, in one session, and checks each is as
// the run found it: bytes, mode and owner, or absent.
func checkUndone(ctx context.Context, h Host, m *Manifest) error {
	targets := make([]fileTarget, len(m.Changes))
	for i, c := range m.Changes {
		targets[i] = fileTarget{Path: c.Path}
	}
	st, err := readHost(ctx, h, nil, targets)
	if err != nil {
		return fmt.Errorf("check the restored files: %w", err)
	}
	var bad []string
	for i, c := range m.Changes {
		now := st.files[i].info
		switch {
		case c.Existed && !isOld(c, now):
			bad = append(bad, fmt.Sprintf("restored %s is %s %s %s:%s, recorded %s %s %s", c.Path, describeSum(now), octalMode(now.Mode), now.Owner, now.Group, short(c.OldSHA256), c.OldMode, c.OldOwner))
		case !c.Existed && now.Exists:
			bad = append(bad, fmt.Sprintf("%s is still there", c.Path))
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// restartOld reloads systemd and puts each unit of m back as it was before
// the run: restarted on the old build and checked, or stopped if it was
// not active. Each unit is tried whatever became of the one before.
func (r *runner) restartOld(ctx context.Context, h Host, m *Manifest) error {
	if _, err := h.Run(ctx, "systemctl", "daemon-reload"); err != nil {
		return fmt.Errorf("daemon-reload: %w", err)
	}
	var err error
	services := r.share(h.Name()).services
	for _, u := range m.Units {
		if u.Props["ActiveState"] != "active" {
			// The rollout's restart started it: as it was is stopped.
			if _, serr := h.Run(ctx, "systemctl", "stop", "--", u.Unit); serr != nil {
				err = joinErrs(err, fmt.Errorf("stop %s: %w", u.Unit, serr))
			}
			continue
		}
		svc := inventory.Service{Unit: u.Unit, Health: inventory.Health{Timeout: 15 * time.Second}}
		for _, s := range services {
			if s.Unit == u.Unit {
				svc = s
			}
		}
		err = joinErrs(err, health(ctx, h, svc, "restart", 0))
	}
	return err
}

// joinErrs joins errors on one line; nil ones are left out.
func joinErrs(errs ...error) error {
	var msgs []string
	var kept []error
	for _, e := range errs {
		if e != nil {
			msgs, kept = append(msgs, e.Error()), append(kept, e)
		}
	}
	switch len(kept) {
	case 0:
		return nil
	case 1:
		return kept[0]
	}
	return &joined{msg: strings.Join(msgs, "; "), errs: kept}
}

// joined is errors.Join's error on one line: the summary shows one.
type joined struct {
	msg  string
	errs []error
}

func (j *joined) Error() string   { return j.msg }
func (j *joined) Unwrap() []error { return j.errs }

// removeCreatedDirs removes the directories a run created for c, deepest
// first, each only if empty: files someone else put there since stay.
func removeCreatedDirs(ctx context.Context, h Host, c Change) error {
	dirs, err := createdDirs(c)
	if err != nil {
		return err
	}
	if _, err := runScript(ctx, h, scriptRemoveDirs, dirs...); err != nil {
		return fmt.Errorf("remove %s: %w", c.CreatedDir, err)
	}
	return nil
}

// createdDirs lists the directories the run created for c, deepest first.
func createdDirs(c Change) ([]string, error) {
	if c.CreatedDir == "" || !strings.HasPrefix(c.Path, c.CreatedDir+"/") {
		return nil, fmt.Errorf("recorded directory %s does not hold %s", c.CreatedDir, c.Path)
	}
	var dirs []string
	for d := path.Dir(c.Path); ; d = path.Dir(d) {
		dirs = append(dirs, d)
		if d == c.CreatedDir {
			return dirs, nil
		}
	}
}

// pickRun finds the run to undo: the one named, or the newest that changed
// something and is not rolled back yet. Runs are undone newest first: undoing
// an older run under a newer one would restore files the newer one expects
// to find, and its own rollback would then put back the wrong bytes. seen
// is called with each manifest read, newest first.
func pickRun(ctx context.Context, h Host, runID string, seen func(*Manifest)) (*Manifest, error) {
	var picked *Manifest
	newer := "" // the newest undoable run above the one named
	err := eachRun(ctx, h, func(m *Manifest) (bool, error) {
		seen(m)
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
