package plain

import (
	"fmt"
	"io"
	"sync"

	"github.com/fleetfix/fleetfix/fleet"
)

// UnlockReporter prints an unlock's outcome, one line per host in the
// order of the hosts named ("h1: locked by run ...: removed", "h1: not
// locked", "h1: connect: ..."), each host's warnings before it: hosts
// are unlocked in parallel, and a script reading the lines finds them in
// a stable order. It is a fleet.Reporter, safe for concurrent use; its
// lines are printed by Summary.
type UnlockReporter struct {
	mu    sync.Mutex
	w     io.Writer
	lines map[string][]string
}

// NewUnlockReporter prints to w.
func NewUnlockReporter(w io.Writer) *UnlockReporter {
	return &UnlockReporter{w: w, lines: map[string][]string{}}
}

// Report keeps e's line when it ends a host or warns.
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
	u.lines[e.Host] = append(u.lines[e.Host], line)
}

// Summary prints each host's lines, in s's order; a host that never
// started gets its status.
func (u *UnlockReporter) Summary(_ string, s *fleet.Summary) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, h := range s.Hosts {
		lines := u.lines[h.Host]
		if len(lines) == 0 {
			lines = []string{h.Host + ": " + string(h.Status)}
		}
		for _, l := range lines {
			fmt.Fprintln(u.w, l)
		}
	}
}
