package fleet

import (
	"time"

	"github.com/fleetfix/fleetfix/inventory"
)

// What the front ends may ask of a step, read from the rollout's own step
// list so that a new step needs no second list in the TUI or the CLI.

// Acts reports whether step s of a rollout changes the host: it runs under
// the host's lock and a halted run stops before it. A host that failed
// before any step that acts has nothing to roll back.
func Acts(s Step) bool {
	st, ok := rolloutStep(s)
	return ok && st.acts
}

// FirstAct is the index in steps of the first step that acts, len(steps)
// when none does: the steps before it are the checks a host already at its
// target ends with.
func FirstAct(steps []Step) int {
	for i, s := range steps {
		if Acts(s) {
			return i
		}
	}
	return len(steps)
}

// Reachable reports whether the run connected to host h and may reach it
// still: not a host it never started, could not connect to, or lost in a
// step that takes it down (its reboot), whose next connect would likely
// wait out a timeout.
func Reachable(h HostResult) bool {
	if h.Status == StatusNotStarted || h.Step == StepConnect {
		return false
	}
	st, ok := rolloutStep(h.Step)
	return h.Status != StatusFailed || !ok || !st.down
}

// rolloutStep is step s of a rollout with every optional step on.
func rolloutStep(s Step) (step, bool) {
	inv := &inventory.Inventory{Rollout: inventory.Policy{Reboot: true, ConfirmTimeout: time.Second, Settle: time.Second}}
	for _, st := range rolloutFlow(Options{Inventory: inv}).steps {
		if st.name == s {
			return st, true
		}
	}
	return step{}, false
}
