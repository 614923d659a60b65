package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// RemoteLockDir is the host's run lock: held from the first change of a run
// to its end, so two controllers never change one host at once.
const RemoteLockDir = "/var/lib/fleetfix/lock"

// errLocked marks the failure to take the lock because another run holds it.
var errLocked = errors.New("held by another run")

// lockAction asks a manifest save to take the run lock before writing or to
// release it after, in the same session (manifestWrite.write).
type lockAction string

const (
	noLock      lockAction = ""
	takeLock    lockAction = "lock"
	releaseLock lockAction = "unlock"
)

// lockError words the failure of a script that took the lock: errLocked
// when it exited lockedStatus (another run holds the lock).
func lockError(err error) error {
	if exitStatus(err) == lockedStatus {
		return fmt.Errorf("lock the host: %w: %w", errLocked, err)
	}
	return fmt.Errorf("lock the host: %w", err)
}

func lockOwner(runID string) string {
	name, _ := os.Hostname()
	return fmt.Sprintf("run %s from %s pid %d", runID, name, os.Getpid())
}

func lockHost(ctx context.Context, h Host, runID string) error {
	if _, err := runScript(ctx, h, scriptLock, RemoteLockDir, lockOwner(runID)); err != nil {
		return lockError(err)
	}
	return nil
}

// unlockHost releases the lock even when the run was cancelled, and after a
// reboot that killed the connection (one reconnect). A lock it cannot
// release names this run, so the next run's error says whose it is.
func unlockHost(ctx context.Context, h Host, runID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if _, err := runScript(ctx, h, scriptUnlock, RemoteLockDir, lockOwner(runID)); err == nil {
		return
	}
	if h.Reconnect(ctx) == nil {
		// Best effort: a lock left behind names this run.
		_, _ = runScript(ctx, h, scriptUnlock, RemoteLockDir, lockOwner(runID))
	}
}
