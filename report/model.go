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

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/jsonl"
)

// unitRow is one host's unit in a run: its stops before and after the fix
// and its verdict.
type unitRow struct {
	Host   string
	Unit   string
	Before *jsonl.Stop
	After  *jsonl.Stop
	// BeforeNote and AfterNote say why a side is missing.
	BeforeNote, AfterNote string
	InFlight              *int
	// Idle: no connection was in flight at the reboot, so a clean stop
	// after the fix proves nothing.
	Idle bool
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
		if len(h.Timings) > 0 {
			for _, t := range h.Timings {
				r := unitRow{Host: h.Host, Unit: t.Unit, Before: t.Before, After: t.After, BeforeNote: t.BeforeNote, AfterNote: t.AfterNote, InFlight: t.InFlight, Idle: t.Idle}
				r.judge(h, unitPolicy(s, t.Unit))
				out = append(out, r)
			}
			continue
		}
		units := []string{""}
		switch {
		case len(h.Units) > 0:
			units = h.Units
		case s.Policy != nil && len(s.Policy.Units) > 0:
			units = nil
			for _, u := range s.Policy.Units {
				units = append(units, u.Unit)
			}
		}
		for _, u := range units {
			r := unitRow{Host: h.Host, Unit: u}
			r.judge(h, unitPolicy(s, u))
			out = append(out, r)
		}
	}
	return out
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
	a := r.After
	switch {
	case a != nil && a.Killed && !p.AllowSIGKILL:
		r.Failure = fmt.Sprintf("SIGKILLed at the reboot after %s", stopText(a.StopMS))
	case a != nil && p.MaxStopMS > 0 && a.StopMS > p.MaxStopMS:
		r.Failure = fmt.Sprintf("stop %s at the reboot, over max_stop %s", stopText(a.StopMS), stopText(p.MaxStopMS))
	case a != nil && r.InFlight != nil && *r.InFlight < p.MinInFlight:
		r.Failure = fmt.Sprintf("%d in flight at the reboot, fewer than min_in_flight %d: the stop proves too little", *r.InFlight, p.MinInFlight)
	case hostFailed(h):
		r.Failure = fmt.Sprintf("host %s at %s: %s", h.Status, stepOf(h), firstLine(h.Error))
	case h.Status == "not-started" || h.Status == "halted":
		r.Skipped = "host " + h.Status
	}
}

// hostFailed reports whether the host failed a step (rolled back after it
// or not) or had it cut off: fleet.HostResult.Failed on the wire, and a
// cancelled step too.
func hostFailed(h jsonl.Host) bool {
	return h.Status == "failed" || h.Status == "cancelled" || h.Status == "rolled-back" && h.Step != ""
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
func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// took is a host's time, "-" for one the run never started (it took none).
func took(v float64) string {
	if v <= 0 {
		return "-"
	}
	return duration.Format(ms(v))
}

// stopText is a stop time as the plain output writes it.
func stopText(v float64) string { return duration.Stop(ms(v)) }

// stopNote is a stop with what marks it: SIGKILLed (by fleetfix, at the
// restart's bound), unfinished, idle; or the note of a missing stop.
func stopNote(s *jsonl.Stop, note string) string {
	if s == nil {
		if note == "" {
			return "-"
		}
		return "none (" + note + ")"
	}
	t := stopText(s.StopMS)
	switch {
	case s.KilledOnRequest:
		t += " SIGKILL (old_stop_timeout)"
	case s.Killed:
		t += " SIGKILL"
	}
	if s.Unfinished {
		t = "≥ " + t + " (unfinished)"
	}
	return t
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
