package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// RemoteLockDir is the host's run lock: held from the first change of a run
// to its end, so two controllers never change one host at once.
const RemoteLockDir = "/var/lib/fleetfix/lock"

// errLocked marks the failure to take the lock because another run holds it.
var errLocked = errors.New("held by another run")

// lockedError is errLocked worded with who holds the lock and what to do.
type lockedError struct{ msg string }

func (e lockedError) Error() string        { return e.msg }
func (e lockedError) Is(target error) bool { return target == errLocked }

// lockAction asks a manifest save to take the run lock before writing or to
// release it after, in the same session (manifestWrite.write); "" does
// neither.
type lockAction string

const (
	takeLock    lockAction = "lock"
	releaseLock lockAction = "unlock"
)

// lockReq is what a script does with the host's lock on behalf of owner.
type lockReq struct {
	action lockAction
	owner  string
	lease  time.Duration
	stale  string // takeLock: the owner line of a stale lock to take over
}

// args are the lock's arguments to save-manifest.sh after its own: the
// action, the lock, the owner, and to take it the lease and the stale owner.
func (l lockReq) args() []string {
	switch l.action {
	case takeLock:
		return []string{string(l.action), RemoteLockDir, l.owner, leaseSeconds(l.lease), l.stale}
	case releaseLock:
		return []string{string(l.action), RemoteLockDir, l.owner}
	}
	return nil
}

func leaseSeconds(d time.Duration) string { return strconv.Itoa(max(1, int(d.Seconds()))) }

// lockError words the failure of a script that took the lock: errLocked
// when it exited lockedStatus (another run holds the lock).
func lockError(err error) error {
	if exitStatus(err) == lockedStatus {
		return fmt.Errorf("lock the host: %w: %w", errLocked, err)
	}
	return fmt.Errorf("lock the host: %w", err)
}

// controller is a process that runs fleetfix, as a lock names it: a pid is
// reused, so with its start time (/proc/PID/stat field 22, clock ticks since
// boot) and the boot it started in.
type controller struct {
	host  string
	pid   int
	start string
	boot  string
}

// thisController is the running process.
func thisController() controller {
	name, _ := os.Hostname()
	c := controller{host: name, pid: os.Getpid()}
	c.start, _ = procStart(c.pid)
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		c.boot = strings.TrimSpace(string(b))
	}
	return c
}

// procStart reads the start time of process pid; an error means no such
// process (or no /proc to tell).
func procStart(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	// Field 2, the command, is in parentheses and may hold spaces: count
	// from the last ")"; field 22 is the 20th after it.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return "", fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	return f[19], nil
}

// owner is the lock's owner line for run runID writing manifest mid ("-"
// for none): the run, its manifest and its controller, as "key value"
// pairs.
func (c controller) owner(runID, mid string) string {
	if mid == "" {
		mid = "-"
	}
	return fmt.Sprintf("run %s manifest %s controller %s pid %d start %s boot %s", runID, mid, c.host, c.pid, orDash(c.start), orDash(c.boot))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Holder is who holds a host's lock, as the host shows it.
type Holder struct {
	RunID string
	// Manifest is the run whose manifest the holder writes (a resumed
	// run's), "" for none.
	Manifest   string
	Controller string // the controller's host name
	PID        int
	// Since and Expires are when the lock was taken and when its lease
	// ends, and Now when it was read, all on the host's clock; Expires is
	// zero for a lock without a lease (an older fleetfix's).
	Since, Expires, Now time.Time

	start, boot string
	line        string // the owner line, to take over or remove exactly it
}

// String names the holder for an operator.
func (h *Holder) String() string {
	if h.RunID == "" {
		return "an unknown run (" + h.line + ")"
	}
	s := fmt.Sprintf("run %s (controller %s pid %d", h.RunID, h.Controller, h.PID)
	if !h.Since.IsZero() {
		s += ", since " + h.Since.UTC().Format(time.RFC3339)
	}
	switch {
	case h.Expires.IsZero():
		s += ", no lease"
	case h.Expired():
		s += fmt.Sprintf(", lease expired %s ago", h.Now.Sub(h.Expires).Round(time.Second))
	default:
		s += fmt.Sprintf(", lease %s left", h.Expires.Sub(h.Now).Round(time.Second))
	}
	return s + ")"
}

// Expired reports whether the holder's lease has run out.
func (h *Holder) Expired() bool { return !h.Expires.IsZero() && h.Now.After(h.Expires) }

// gone reports whether the holder's process is known to be gone: its
// controller is this machine (self) and no process has its pid and start
// time in this boot. start looks a process up (procStart).
func (h *Holder) gone(self controller, start func(int) (string, error)) bool {
	if h.Controller == "" || h.Controller != self.host || self.boot == "" {
		return false
	}
	if h.boot != self.boot {
		return true // this machine has rebooted since
	}
	st, err := start(h.PID)
	return err != nil || st != h.start
}

// stale says why the lock may be taken over, or "" when it may not.
func (h *Holder) stale(self controller, start func(int) (string, error)) string {
	switch {
	case h.RunID == "":
		return ""
	case h.gone(self, start):
		return fmt.Sprintf("its controller (pid %d on this machine) is gone", h.PID)
	case h.Expired():
		return "its lease expired"
	}
	return ""
}

// parseHolder reads lock-show.sh's answer; nil when there is no lock.
func parseHolder(out []byte) (*Holder, error) {
	h := &Holder{}
	seen := false
	for line := range strings.Lines(string(out)) {
		kind, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		switch kind {
		case "owner":
			seen, h.line = true, rest
			f := strings.Fields(rest)
			for i := 0; i+1 < len(f); i += 2 {
				switch v := f[i+1]; f[i] {
				case "run":
					h.RunID = v
				case "manifest":
					h.Manifest = strings.TrimPrefix(v, "-")
				case "controller":
					h.Controller = v
				case "pid":
					h.PID, _ = strconv.Atoi(v)
				case "start":
					h.start = v
				case "boot":
					h.boot = v
				}
			}
			if !ValidRunID(h.RunID) || h.Controller == "" {
				h.RunID = "" // an older fleetfix's, or a hand-made one
			}
		case "lease":
			since, expires, _ := strings.Cut(rest, " ")
			h.Since, h.Expires = unixTime(since), unixTime(expires)
		case "now":
			h.Now = unixTime(rest)
		default:
			return nil, fmt.Errorf("lock: unexpected line %q", line)
		}
	}
	if !seen {
		return nil, nil
	}
	return h, nil
}

func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// showLock reads who holds the host's lock; nil when nobody does.
func showLock(ctx context.Context, h Host) (*Holder, error) {
	out, err := runScript(ctx, h, scriptLockShow, RemoteLockDir)
	if err != nil {
		return nil, fmt.Errorf("read the lock: %w", err)
	}
	return parseHolder(out)
}

func lockHost(ctx context.Context, h Host, l lockReq) error {
	if _, err := runScript(ctx, h, scriptLock, RemoteLockDir, l.owner, leaseSeconds(l.lease), l.stale); err != nil {
		return lockError(err)
	}
	return nil
}

// unlockHost releases the lock even when the run was cancelled, and after a
// reboot that killed the connection (one reconnect). A lock it cannot
// release names this run, so the next run's error says whose it is.
func unlockHost(ctx context.Context, h Host, owner string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if _, err := runScript(ctx, h, scriptUnlock, RemoteLockDir, owner); err == nil {
		return
	}
	if h.Reconnect(ctx) == nil {
		// Best effort: a lock left behind names this run.
		_, _ = runScript(ctx, h, scriptUnlock, RemoteLockDir, owner)
	}
}

// markInterrupted records that run id, whose lock was taken from it or
// removed, was cut off: a manifest that still says running says
// interrupted, which a rollout resumes like a failed run. It reports
// whether it marked it.
func (hr *hostRun) markInterrupted(ctx context.Context, id string) (bool, error) {
	if !ValidRunID(id) {
		return false, nil
	}
	m, err := readManifest(ctx, hr.h, id)
	if err != nil {
		// A manifest gone (pruned, or removed by hand) leaves no run to
		// mark: the lock's removal has done all there was to do.
		if fi, serr := hr.h.Stat(ctx, RemoteRunsDir+"/"+id+".json"); serr == nil && !fi.Exists {
			return false, nil
		}
		return false, err
	}
	if m.State != StateRunning {
		return false, nil
	}
	m.State = StateInterrupted
	if err := hr.saveOther(m); err != nil {
		return false, err
	}
	return true, nil
}
