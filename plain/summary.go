package plain

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/fleetfix/fleetfix/fleet"
)

// Summary prints the final table of a run, its timings table when a host
// was rebooted, and the verdict.
func Summary(w io.Writer, s *fleet.Summary) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tBATCH\tRESULT\tSTEP\tCHANGED\tRESTART\tTIME\tSERVICES\tERROR")
	for _, h := range s.Hosts {
		batch := "-"
		if h.Batch == 0 {
			batch = "canary"
		} else if h.Batch > 0 {
			batch = fmt.Sprint(h.Batch)
		}
		restart := "-"
		if h.RestartTime > 0 {
			restart = Duration(h.RestartTime)
		}
		step := string(h.Step)
		if step == "" {
			step = "-"
		}
		took := "-" // a host the run never started took no time
		if h.Duration > 0 {
			took = Duration(h.Duration)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", h.Host, batch, h.Status, step, h.Changed, restart, took, units(h.Units), firstLine(h.Error))
	}
	_ = tw.Flush() // a failed write to the output has nowhere else to be reported
	if rows := Timings(s.Hosts); len(rows) > 0 {
		fmt.Fprintln(w)
		writeTimings(w, rows)
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
	fmt.Fprintf(w, "%s%d host(s), %s, in %s\n", id, len(s.Hosts), verdict, Duration(s.Duration))
}

// units names a host's services the short way, as the inventory may:
// smart-proxy for smart-proxy.service.
func units(us []string) string {
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
