package report

import (
	"bytes"
	"fmt"

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/jsonl"
)

// ScanMarkdown is a scan for a ticket: the fleet-wide picture before any
// change, each host's units at its last shutdown with their stop settings.
func ScanMarkdown(sc jsonl.Scan) []byte {
	var b bytes.Buffer
	killed, hosts := scanCounts(sc)
	fmt.Fprintf(&b, "# fleetfix scan\n\n**Outcome:** %d of %d host(s) with a SIGKILLed unit, scanned in %s.\n\n", killed, hosts, duration.Format(ms(sc.DurationMS)))
	b.WriteString("| Host | Unit | Stop | Result | TimeoutStopSec | KillMode |\n|---|---|---:|---|---|---|\n")
	for _, h := range sc.Hosts {
		switch {
		case h.Error != "":
			fmt.Fprintf(&b, "| %s | - | - | error: %s | - | - |\n", cell(h.Host), cell(h.Error))
		case len(h.Units) == 0:
			fmt.Fprintf(&b, "| %s | - | - | %s | - | - |\n", cell(h.Host), cell(orDash(h.Note)))
		}
		for _, u := range h.Units {
			result := u.Result
			if u.Killed {
				result = "**SIGKILL**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", cell(h.Host), cell(u.Unit), stopText(u.StopMS), cell(result), cell(u.TimeoutStop), cell(u.KillMode))
		}
	}
	return b.Bytes()
}

// scanCounts counts the hosts with a SIGKILLed unit, and the hosts.
func scanCounts(sc jsonl.Scan) (killed, hosts int) {
	for _, h := range sc.Hosts {
		for _, u := range h.Units {
			if u.Killed {
				killed++
				break
			}
		}
	}
	return killed, len(sc.Hosts)
}
