// Package report renders a stored run summary (a jsonl.Summary, as
// `fleetfix report` reads it back) or a scan (a jsonl.Scan) for people and
// for CI: Markdown for a change ticket, one self-contained HTML page whose
// charts it draws itself as SVG, and JUnit XML. It is pure: a summary in,
// bytes out.
package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/journal"
	"github.com/fleetfix/fleetfix/jsonl"
	"github.com/fleetfix/fleetfix/plain"
)

// unitRow is one host's unit in a run: the timings table's row, as plain
// and the TUI build it, with its verdict under the run's policy.
type unitRow struct {
	plain.TimingRow
	// Failure says why the unit fails the run; "" when it passes.
	Failure string
	// Skipped says why the unit was not checked (its host did not run).
	Skipped string
}

// unitRows are the run's host/unit pairs in host order: each rebooted
// host's timings, else, for a host that has none (a run without a reboot,
// a host that failed or never started), its own units, else the policy's,
// else the host alone, with an empty unit.
func unitRows(s jsonl.Summary) []unitRow {
	var out []unitRow
	for _, h := range s.Hosts {
		var rows []plain.TimingRow
		if len(h.Timings) > 0 {
			rows = plain.HostTimings(h.Result())
		} else {
			for _, u := range hostUnits(s, h) {
				rows = append(rows, plain.TimingRow{Host: h.Host, Timing: fleet.UnitTiming{Unit: u}})
			}
		}
		for _, tr := range rows {
			r := unitRow{TimingRow: tr}
			r.judge(h, unitPolicy(s, tr.Timing.Unit))
			out = append(out, r)
		}
	}
	return out
}

// hostUnits are the units of a host without timings: its own, else the
// policy's, else one empty unit for the host alone.
func hostUnits(s jsonl.Summary, h jsonl.Host) []string {
	switch {
	case len(h.Units) > 0:
		return h.Units
	case s.Policy != nil && len(s.Policy.Units) > 0:
		var units []string
		for _, u := range s.Policy.Units {
			units = append(units, u.Unit)
		}
		return units
	}
	return []string{""}
}

// unitPolicy is the policy's bounds on unit, zero when it has none.
func unitPolicy(s jsonl.Summary, unit string) jsonl.UnitPolicy {
	if s.Policy != nil {
		for _, u := range s.Policy.Units {
			if u.Unit == unit {
				return u
			}
		}
	}
	return jsonl.UnitPolicy{Unit: unit}
}

// judge sets the row's verdict: a stop after the fix fails when SIGKILLed
// (unless allowed) or over max_stop; a unit that passes fails all the same
// when its host failed a step; a host that did not run skips its units.
func (r *unitRow) judge(h jsonl.Host, p jsonl.UnitPolicy) {
	a, inFlight := r.Timing.After, r.Timing.InFlight
	switch {
	case a != nil && a.Killed && !p.AllowSIGKILL:
		r.Failure = fmt.Sprintf("SIGKILLed at the reboot after %s", duration.Stop(a.Duration))
	case a != nil && p.MaxStopMS > 0 && a.Duration > jsonl.Duration(p.MaxStopMS):
		r.Failure = fmt.Sprintf("stop %s at the reboot, over max_stop %s", duration.Stop(a.Duration), stopText(p.MaxStopMS))
	case a != nil && inFlight != nil && *inFlight < p.MinInFlight:
		r.Failure = fmt.Sprintf("%d in flight at the reboot, fewer than min_in_flight %d: the stop proves too little", *inFlight, p.MinInFlight)
	case hostFailed(h):
		r.Failure = fmt.Sprintf("host %s at %s: %s", h.Status, stepOf(h), firstLine(h.Error))
	case h.Status == string(fleet.StatusNotStarted) || h.Status == string(fleet.StatusHalted):
		r.Skipped = "host " + h.Status
	}
}

// hostFailed reports whether the host failed a step (rolled back after it
// or not) or had it cut off by the operator.
func hostFailed(h jsonl.Host) bool {
	return h.Failed() || h.Status == string(fleet.StatusCancelled)
}

func stepOf(h jsonl.Host) string {
	if h.Step == "" {
		return "run"
	}
	return h.Step
}

// failures are the run's failed hosts, each with its cause.
func failures(s jsonl.Summary) []jsonl.Host {
	var out []jsonl.Host
	for _, h := range s.Hosts {
		if hostFailed(h) {
			out = append(out, h)
		}
	}
	return out
}

// ms is a wire figure in milliseconds as a duration.
func ms(v float64) time.Duration { return jsonl.Duration(v) }

// took is a host's time, "-" for one the run never started (it took none).
func took(v float64) string {
	if v <= 0 {
		return "-"
	}
	return duration.Format(ms(v))
}

// stopText is a stop time as the plain output writes it.
func stopText(v float64) string { return duration.Stop(ms(v)) }

// stopNote is a stop in the words plain and the TUI use, "-" for a side
// with neither a stop nor a note.
func stopNote(u *journal.UnitStop, note string) string {
	if u == nil && note == "" {
		return "-"
	}
	return fleet.DescribeStop(u, note)
}

// outcome is the run's verdict in a few words.
func outcome(s jsonl.Summary) string {
	parts := []string{}
	if s.OK {
		parts = append(parts, "ok")
	} else {
		parts = append(parts, fmt.Sprintf("%d failed", s.Failed))
	}
	if s.Cancelled > 0 {
		parts = append(parts, fmt.Sprintf("%d cancelled", s.Cancelled))
	}
	if s.Halted {
		parts = append(parts, "halted")
	}
	return strings.Join(parts, ", ")
}

// title names the run: "rollout 20261201_101500".
func title(s jsonl.Summary) string {
	return strings.TrimSpace(s.Command + " " + s.RunID)
}

// policyLine is the policy in one line: canary 1 · batch 25% · ...
func policyLine(p *jsonl.Policy) string {
	if p == nil {
		return "not recorded"
	}
	parts := []string{fmt.Sprintf("canary %d", p.Canary), "batch " + p.Batch, fmt.Sprintf("parallel %d", p.MaxParallel),
		"failure budget " + p.FailureBudget}
	if p.Reboot {
		parts = append(parts, "cold reboot")
	} else {
		parts = append(parts, "no reboot")
	}
	if p.OnFailure != "" {
		parts = append(parts, "on failure "+p.OnFailure)
	}
	if p.Restart != "" {
		parts = append(parts, "restart "+p.Restart)
	}
	for _, u := range p.Units {
		var b []string
		if u.OldStopTimeoutMS > 0 {
			b = append(b, "old build SIGKILL after "+stopText(u.OldStopTimeoutMS))
		}
		if u.MaxStopMS > 0 {
			b = append(b, "max_stop "+stopText(u.MaxStopMS))
		}
		if u.MinInFlight > 0 {
			b = append(b, fmt.Sprintf("min_in_flight %d", u.MinInFlight))
		}
		if len(b) > 0 {
			parts = append(parts, u.Unit+": "+strings.Join(b, ", "))
		}
	}
	return strings.Join(parts, " · ")
}

// origin says who ran the run, from where, when and for how long.
func origin(s jsonl.Summary) string {
	var parts []string
	if s.User != "" || s.Controller != "" {
		parts = append(parts, "by "+orDash(s.User)+" on "+orDash(s.Controller))
	}
	if s.Inventory != "" {
		parts = append(parts, "inventory "+s.Inventory)
	}
	if !s.Started.IsZero() {
		parts = append(parts, "started "+s.Started.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	parts = append(parts, "took "+duration.Format(ms(s.DurationMS)))
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// batchName is a host's batch as the plain summary writes it.
func batchName(b int) string {
	switch {
	case b == 0:
		return "canary"
	case b > 0:
		return fmt.Sprint(b)
	}
	return "-"
}
