package fleet

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetfix/fleetfix/inventory"
)

// ErrLeaseLive is Unlock's refusal of a lock whose holder may still be
// running.
var ErrLeaseLive = errors.New("its lease is live: the run may still be going (--force if it is gone)")

// UnlockOptions configure an unlock.
type UnlockOptions struct {
	Inventory *inventory.Inventory
	// Targets are the hosts to unlock; nil means every host.
	Targets  []inventory.Target
	Dial     Dialer
	Reporter Reporter
	// StateDir keeps the local copy of the manifest marked interrupted.
	StateDir string
	// Force removes a lock whose lease is live.
	Force bool
}

// Unlock removes each target's lock, for the operator who knows its run
// is gone, and says who held it: each host's final event (StepUnlock)
// says "locked by HOLDER: removed", "not locked" (status unchanged) or
// why not. A lock whose lease is live is refused (its run may still be
// changing the host) unless force, or unless its controller is this
// machine and its process is gone. The run that held it, if its manifest
// still says running, is marked interrupted, so that the next rollout
// resumes it. Hosts run in parallel up to the policy's MaxParallel, each
// detached from ctx's cancellation (a lock removed and its run not marked
// would have the next rollout start over), bounded by its steps' timeouts.
func Unlock(ctx context.Context, o UnlockOptions) (*Summary, error) {
	r, err := newRunner(Options{Inventory: hostsOnly(o.Inventory), Dial: o.Dial, Reporter: o.Reporter, StateDir: o.StateDir})
	if err != nil {
		return nil, cannotStart(o.Reporter, StepUnlock, err)
	}
	to := o.Inventory.Rollout.Timeouts
	return r.each(ctx, o.Targets, nil, to.Connect+to.Preflight, unlockFlow(to, o.Force)), nil
}

// unlock is the unlock flow's step: it reads who holds the host's lock and
// removes it, unless its lease is live and not force, then marks the
// holder's run interrupted. *said is what it did, for the host's final
// event.
func (hr *hostRun) unlock(ctx context.Context, force bool, said *string) (string, error) {
	hd, err := showLock(ctx, hr.h)
	if err != nil {
		return "", err
	}
	if hd == nil {
		hr.endEarly(StatusUnchanged, "not locked")
		return "", nil
	}
	if !force && hd.stale(hr.r.self, procStart) == "" && hd.Expires.After(hd.Now) {
		return "", fmt.Errorf("locked by %s: refused: %w", hd, ErrLeaseLive)
	}
	if hd.line == "" {
		_, err = hr.h.Run(ctx, "rm", "-rf", "--", RemoteLockDir) // no owner to match
	} else {
		_, err = runScript(ctx, hr.h, scriptUnlock, RemoteLockDir, hd.line)
	}
	if err != nil {
		return "", fmt.Errorf("locked by %s: remove the lock: %w", hd, err)
	}
	msg := fmt.Sprintf("locked by %s: removed", hd)
	marked, err := hr.markInterrupted(ctx, hd.Manifest)
	if err != nil {
		return "", fmt.Errorf("%s: lock removed, but run %s could not be marked interrupted: %w", msg, hd.Manifest, err)
	}
	if marked {
		msg += "; run " + hd.Manifest + " marked " + StateInterrupted
	}
	*said = msg
	return "", nil
}
