// Package plain is fleetfix's output for people: one line per event, the
// summary table, the timings table and the scan table. The timings table is
// built once here, as rows of a summary's hosts, and rendered by each front
// end.
package plain

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/duration"
)

// Reporter prints one line per event, prefixed by host; it is a
// fleet.Reporter, safe for concurrent use.
type Reporter struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool
}

// NewReporter prints to w; verbose also prints step starts and
// informational lines.
func NewReporter(w io.Writer, verbose bool) *Reporter {
	return &Reporter{w: w, verbose: verbose}
}

// Report prints e, unless it is a start or an info line a quiet reporter
// skips (warnings and a plan's "would ..." lines always show).
func (p *Reporter) Report(e fleet.Event) {
	if e.Phase == fleet.PhaseStart && e.Host != "" && !p.verbose {
		return
	}
	if e.Phase == fleet.PhaseInfo && !e.Warning && !p.verbose && !strings.HasPrefix(e.Message, "would ") {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	host := e.Host
	if host == "" {
		host = "*"
	}
	phase := string(e.Phase)
	if e.Warning {
		phase = "warn"
	}
	line := fmt.Sprintf("%-12s %-9s %-7s", host, e.Step, phase)
	if e.Duration > 0 {
		line += fmt.Sprintf(" %8s", duration.Format(e.Duration))
	}
	if e.Message != "" {
		line += "  " + e.Message
	}
	fmt.Fprintln(p.w, strings.TrimRight(line, " "))
	for _, c := range e.Changes {
		fmt.Fprintf(p.w, "%-12s   %s\n", host, ChangeLine(c, "->"))
		for _, l := range strings.Split(strings.TrimRight(c.Diff, "\n"), "\n") {
			if l != "" {
				fmt.Fprintf(p.w, "%-12s       %s\n", host, l)
			}
		}
	}
}
