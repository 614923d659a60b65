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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", h.Host, batch, h.Status, step, h.Changed, restart, Duration(h.Duration), units(h.Units), firstLine(h.Error))
	}
	_ = tw.Flush() // a failed write to the output has nowhere else to be reported
	if rows := Timings(s.Hosts); len(rows) > 0 {
		fmt.Fprintln(w)
		writeTimings(w, rows)
	}
	verdict := "all hosts ok"
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

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
