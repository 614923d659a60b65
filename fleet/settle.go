package fleet

import (
	"context"
	"fmt"
	"time"
)

// settle is the settle step, between the restart and the reboot when
// rollout.settle is set: clients of the restarted units reconnect, so the
// stop the reboot measures has connections to close. It is a step of its
// own, not a wait inside the reboot step, because the reboot step is also
// fleetfix reboot's, which has no restart to settle after, and so that the
// reboot's timeout and timings stay the reboot's alone. A halt ends the wait
// at once: the reboot, which acts, then halts.
func (hr *hostRun) settle(ctx context.Context) (string, error) {
	d := hr.r.opts.Inventory.Rollout.Settle
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return fmt.Sprintf("waited %s for clients to reconnect", d), nil
	case <-hr.r.haltCh:
	case <-hr.r.opts.Halt:
	case <-ctx.Done():
		return "", fmt.Errorf("settle: %w", ctx.Err())
	}
	return "halted during the wait", nil
}
