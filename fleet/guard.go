package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The guard is a run's dead-man switch across its reboot. Before the
// reboot the rollout installs on the host a systemd timer, enabled for the
// next boot (OnBootSec=confirm_timeout), and a restore script written from
// the run's manifest; once the post-boot checks pass, the confirm step
// removes them. A host that fleetfix did not confirm in time (the
// controller died, the network went) puts itself back from the run's
// backups and records that beside the manifest; the next rollout or
// rollback reports it. Every file of a guard is named for its run, and the
// manifest names the guard while it is installed.

// guardName names run runID's guard: its timer and service in
// /etc/systemd/system, its script in /var/lib/fleetfix.
func guardName(runID string) string { return "fleetfix-guard-" + runID }

// guardRecord is the file a guard writes when it restored the host.
func guardRecord(runID string) string { return RemoteRunsDir + "/" + runID + ".restored" }

// guardNotePrefix starts the note of a manifest whose guard restored it.
const guardNotePrefix = "restored by the guard at "

// installGuard is the guard step: it installs the run's guard and records
// it in the manifest, which the runner saves on the host before the reboot
// it guards (the step saves). A guard whose reboot did not happen is
// removed on the way out (disarmGuard).
func (hr *hostRun) installGuard(ctx context.Context) (string, error) {
	timeout := hr.r.opts.Inventory.Rollout.ConfirmTimeout
	name := guardName(hr.m.RunID)
	body := guardScript(hr.m, name)
	out, err := runScriptInput(ctx, hr.h, []byte(body), scriptGuardInstall, name, guardService(name), guardTimer(name, timeout))
	if err != nil {
		return "", fmt.Errorf("install the guard: %w", err)
	}
	sum := sha256.Sum256([]byte(body))
	if got := strings.TrimSpace(string(out)); got != hex.EncodeToString(sum[:]) {
		return "", fmt.Errorf("install the guard: its script has sha256 %s on the host, want %s", short(got), short(hex.EncodeToString(sum[:])))
	}
	hr.m.Guard = name
	boot := hr.facts.BootID
	hr.cleanup = append(hr.cleanup, func() { hr.disarmGuard(boot) })
	return fmt.Sprintf("%s armed: restores the host if not confirmed within %s of its next boot", name, timeout), nil
}

// confirm is the last step of a rollout that rebooted: every check passed,
// so the guard is removed. A guard that restored the host first fails the
// host: the fix is no longer there.
func (hr *hostRun) confirm(ctx context.Context) (string, error) {
	if hr.m == nil || hr.m.Guard == "" {
		return "no guard to remove", nil
	}
	name := hr.m.Guard
	out, err := runScript(ctx, hr.h, scriptGuardRemove, name, guardRecord(hr.m.RunID))
	if err != nil {
		return "", fmt.Errorf("remove the guard: %w", err)
	}
	hr.m.Guard = ""
	if at, ok := restoredAt(string(out)); ok {
		hr.m.Note, hr.m.State = guardNotePrefix+at, StateRolledBack
		return "", fmt.Errorf("the guard restored the host at %s, before fleetfix confirmed the run (confirm_timeout %s)", at, hr.r.opts.Inventory.Rollout.ConfirmTimeout)
	}
	return "confirmed: " + name + " removed", nil
}

// disarmGuard removes a guard that was not confirmed while the host is
// still in boot, the one it was installed in, and not shutting down: its
// reboot did not happen (the run failed or halted before it), and a guard
// left enabled would restore the host at some later boot. Once the reboot
// is under way the guard stays: it is what undoes a host fleetfix could
// not finish.
func (hr *hostRun) disarmGuard(boot string) {
	if hr.m == nil || hr.m.Guard == "" || hr.h == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(hr.ctx), 15*time.Second)
	defer cancel()
	out, err := runScript(ctx, hr.h, scriptGuardRemove, hr.m.Guard, guardRecord(hr.m.RunID), boot)
	if err == nil && strings.Contains(string(out), "removed") {
		hr.m.Guard = ""
	}
}

// removeGuard removes the guard of run m, if it has one, for its rollback.
func removeGuard(ctx context.Context, h Host, m *Manifest) error {
	if m.Guard == "" {
		return nil
	}
	if _, err := runScript(ctx, h, scriptGuardRemove, m.Guard, guardRecord(m.RunID)); err != nil {
		return fmt.Errorf("remove the guard: %w", err)
	}
	m.Guard = ""
	return nil
}

// guardNote is the manifest's note for a guard's record (guard-restore.sh:
// "restored_at=TIME failed=0|1 boot_id=ID"), as the guard writes it.
func guardNote(record string) string {
	kv := parseKV([]byte(strings.ReplaceAll(strings.TrimSpace(record), " ", "\n")), "=")
	note := guardNotePrefix + kv["restored_at"]
	if kv["failed"] != "0" {
		note += ", with failures"
	}
	return note
}

// restoredMessage tells the operator that run id's guard restored the host.
func restoredMessage(id, note string) string {
	return fmt.Sprintf("run %s restored itself: %s, fleetfix not having confirmed it after its reboot (journalctl -u %s.service)", id, note, guardName(id))
}

// restoredAt reads the time out of guard-remove.sh's "restored RECORD" line.
func restoredAt(out string) (string, bool) {
	for line := range strings.Lines(out) {
		if rec, ok := strings.CutPrefix(strings.TrimSpace(line), "restored "); ok {
			return strings.TrimPrefix(guardNote(rec), guardNotePrefix), true
		}
	}
	return "", false
}

// guardScript is the guard's restore script for run m: guard-restore.sh
// after the operations written from the manifest, as its parameters.
func guardScript(m *Manifest, name string) string {
	args := []string{m.RunID, m.remotePath(), guardRecord(m.RunID), name, RemoteLockDir}
	for _, c := range slices.Backward(m.Changes) {
		switch {
		case !c.Done:
		case c.Existed:
			args = append(args, "restore", c.Path, c.Backup, c.OldSHA256)
		default:
			args = append(args, "remove", c.Path, c.NewSHA256)
			if dirs, err := createdDirs(c); err == nil {
				for _, d := range dirs {
					args = append(args, "rmdir", d)
				}
			}
		}
	}
	args = append(args, "reload")
	for _, u := range m.Units {
		op := "restart"
		if u.Props["ActiveState"] != "active" {
			op = "stop" // the rollout's restart started it
		}
		args = append(args, op, u.Unit)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# fleetfix's guard of run %s on %s, written from its manifest: see\n# %s.timer.\nset --", m.RunID, m.Host, name)
	for i, a := range args {
		if i > 0 && (a == "restore" || a == "remove" || a == "rmdir" || a == "reload" || a == "restart" || a == "stop") {
			b.WriteString(" \\\n ")
		}
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString("\n")
	b.WriteString(scriptGuardRestore.body)
	return b.String()
}

// guardService is the unit the guard's timer starts: the restore.
func guardService(name string) string {
	return "[Unit]\nDescription=fleetfix guard: restore the host unless fleetfix confirms the run\n" +
		"\n[Service]\nType=oneshot\nExecStart=/bin/sh /var/lib/fleetfix/" + name + ".sh\nTimeoutStartSec=15min\n"
}

// guardTimer starts the restore timeout after the boot it starts in, to
// the second (the default accuracy is a minute).
func guardTimer(name string, timeout time.Duration) string {
	secs := max(int64(timeout.Round(time.Second)/time.Second), 1)
	return "[Unit]\nDescription=fleetfix guard: restore the host " + fmt.Sprint(secs) + "s after boot unless fleetfix confirms the run\n" +
		"\n[Timer]\nOnBootSec=" + fmt.Sprint(secs) + "s\nAccuracySec=1s\nUnit=" + name + ".service\n" +
		"\n[Install]\nWantedBy=timers.target\n"
}

// shellQuote quotes s for sh: inside single quotes, each ' closed, escaped
// and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
