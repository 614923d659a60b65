package plain

import (
	"fmt"
	"io"
	"sync"

	"github.com/fleetfix/fleetfix/fleet"
)

// UnlockReporter prints an unlock's outcome, one line per host from its
// final event ("h1: locked by run ...: removed", "h1: not locked", "h1:
// connect: ..."), and its warnings; it is a fleet.Reporter, safe for
// concurrent use.
type UnlockReporter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewUnlockReporter prints to w.
func NewUnlockReporter(w io.Writer) *UnlockReporter { return &UnlockReporter{w: w} }

// Report prints e when it ends a host or warns.
func (u *UnlockReporter) Report(e fleet.Event) {
	var line string
	switch {
	case e.Result != nil && e.Phase == fleet.PhaseFail && e.Step != fleet.StepUnlock:
		line = fmt.Sprintf("%s: %s: %s", e.Host, e.Step, e.Message)
	case e.Result != nil:
		line = e.Host + ": " + e.Message
	case e.Warning:
		line = e.Host + ": warning: " + e.Message
	default:
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprintln(u.w, line)
}
