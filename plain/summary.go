package plain

import (
	"fmt"
	"io"
	"strings"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/duration"
)

// Summary prints the final table of a run, its timings table when a host
// was rebooted, and the verdict, in their wide forms (one line per row,
// however long: for a file or a pipe, where lines do not wrap).
func Summary(w io.Writer, s *fleet.Summary) {
	SummaryWidth(w, s, 0)
}

// SummaryWidth is Summary for a terminal width columns wide: a table whose
// wide form would wrap there is printed in its narrow form instead, each
// row's long cells on lines of their own below it (0: no bound).
func SummaryWidth(w io.Writer, s *fleet.Summary, width int) {
	fmt.Fprintln(w)
	hosts := make([][]string, len(s.Hosts))
	for i, h := range s.Hosts {
		hosts[i] = hostCells(h)
	}
	fit(w, width, func(w io.Writer) { writeTable(w, summaryHeader, hosts) }, func() []string { return narrowHosts(hosts, width) })
	if rows := Timings(s.Hosts); len(rows) > 0 {
		fmt.Fprintln(w)
		fit(w, width, func(w io.Writer) { writeTimings(w, rows) }, func() []string { return narrowTimings(rows, width) })
		if l := FleetLine(rows); l != "" {
			fmt.Fprintln(w, "fleet: "+l)
		}
	}
	verdict := "all hosts ok"
	if n := rolledBack(s); n > 0 && s.OK() {
		verdict = fmt.Sprintf("no host failed, %d rolled back", n)
	}
	if !s.OK() {
		verdict = fmt.Sprintf("%d failed", s.Failed())
		if n := s.Cancelled(); n > 0 {
			verdict += fmt.Sprintf(", %d cancelled", n)
		}
		if s.Halted {
			verdict += ", run halted"
		}
	}
	id := ""
	if s.RunID != "" {
		id = "run " + s.RunID + ": "
	}
	fmt.Fprintf(w, "%s%d host(s), %s, in %s\n", id, len(s.Hosts), verdict, duration.Format(s.Duration))
}

// summaryHeader heads the summary table's columns; its last two, SERVICES
// and ERROR, are the ones the narrow form moves below the row.
var summaryHeader = []string{"HOST", "BATCH", "RESULT", "STEP", "CHANGED", "RESTART", "TIME", "SERVICES", "ERROR"}

// hostCells are a host's cells in the summary table's columns.
func hostCells(h fleet.HostResult) []string {
	batch := "-"
	if h.Batch == 0 {
		batch = "canary"
	} else if h.Batch > 0 {
		batch = fmt.Sprint(h.Batch)
	}
	restart := "-"
	if h.RestartTime > 0 {
		restart = duration.Format(h.RestartTime)
	}
	step := string(h.Step)
	if step == "" {
		step = "-"
	}
	took := "-" // a host the run never started took no time
	if h.Duration > 0 {
		took = duration.Format(h.Duration)
	}
	return []string{h.Host, batch, string(h.Status), step, fmt.Sprint(h.Changed), restart, took, Units(h.Units), firstLine(h.Error)}
}

// Units names a host's services the short way, as the inventory may:
// smart-proxy for smart-proxy.service; "-" for none.
func Units(us []string) string {
	if len(us) == 0 {
		return "-"
	}
	short := make([]string, len(us))
	for i, u := range us {
		short[i] = strings.TrimSuffix(u, ".service")
	}
	return strings.Join(short, ",")
}

// rolledBack counts the hosts put back as they were (from the TUI).
func rolledBack(s *fleet.Summary) int {
	n := 0
	for _, h := range s.Hosts {
		if h.Status == fleet.StatusRolledBack {
			n++
		}
	}
	return n
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
