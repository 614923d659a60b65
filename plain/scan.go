package plain

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/duration"
)

// Scan prints a scan's table: each host's SIGKILLed and slowest units, and
// a line of totals.
func Scan(w io.Writer, results []fleet.ScanResult, took time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tUNIT\tSTOP\tRESULT\tTIMEOUTSTOPSEC\tKILLMODE")
	killed := 0
	for _, r := range results {
		switch {
		case r.Error != "":
			fmt.Fprintf(tw, "%s\t-\t-\terror: %s\t\t\n", r.Host, r.Error)
			continue
		case r.Note != "":
			fmt.Fprintf(tw, "%s\t-\t-\tno timings: %s\t\t\n", r.Host, r.Note)
			continue
		}
		for _, u := range r.Units {
			result := u.Result
			if u.Killed {
				result = "SIGKILLed (" + u.Result + ")"
				killed++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Host, u.Unit, duration.Stop(u.Duration), result, u.TimeoutStop, u.KillMode)
		}
	}
	_ = tw.Flush() // a failed write to the output has nowhere else to be reported
	fmt.Fprintf(w, "%d host(s) scanned in %s; %d unit stop(s) ended in SIGKILL\n", len(results), duration.Format(took), killed)
}
