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

// UnlockResult is what Unlock found and did on one host.
type UnlockResult struct {
	Host   string
	Holder *Holder // nil: the host was not locked
	// Removed: the lock is gone; Interrupted names the run then marked
	// interrupted ("" when none was).
	Removed     bool
	Interrupted string
	Err         error
}

// Unlock removes host t's lock, for the operator who knows its run is
// gone, and says who held it. A lock whose lease is live is refused (its
// run may still be changing the host) unless force, or unless its
// controller is this machine and its process is gone. The run that held
// it, if its manifest still says running, is marked interrupted, so that
// the next rollout resumes it.
func Unlock(ctx context.Context, dial Dialer, t inventory.Target, force bool, stateDir string) UnlockResult {
	res := UnlockResult{Host: t.Name}
	h, err := dial(ctx, t)
	if err != nil {
		res.Err = fmt.Errorf("connect: %w", err)
		return res
	}
	defer func() { _ = h.Close() }()
	if res.Holder, res.Err = showLock(ctx, h); res.Err != nil || res.Holder == nil {
		return res
	}
	hd := res.Holder
	if !force && hd.stale(thisController(), procStart) == "" && hd.Expires.After(hd.Now) {
		res.Err = ErrLeaseLive
		return res
	}
	if hd.line == "" {
		_, err = h.Run(ctx, "rm", "-rf", "--", RemoteLockDir) // no owner to match
	} else {
		_, err = runScript(ctx, h, scriptUnlock, RemoteLockDir, hd.line)
	}
	if err != nil {
		res.Err = fmt.Errorf("remove the lock: %w", err)
		return res
	}
	res.Removed = true
	if marked, err := markInterrupted(ctx, h, hd.Manifest, stateDir); err != nil {
		res.Err = fmt.Errorf("lock removed, but run %s could not be marked interrupted: %w", hd.Manifest, err)
	} else if marked {
		res.Interrupted = hd.Manifest
	}
	return res
}
