package report

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/jsonl"
)

// Markdown is the run s for a change ticket: the outcome and policy, each
// host's units before -> after, the failures with their cause, and the
// files changed.
func Markdown(s jsonl.Summary) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# fleetfix %s\n\n", title(s))
	fmt.Fprintf(&b, "**Outcome:** %s: %d host(s), %s.\n\n", outcome(s), len(s.Hosts), origin(s))
	fmt.Fprintf(&b, "**Policy:** %s\n\n", policyLine(s.Policy))

	b.WriteString("## Hosts\n\n| Host | Batch | Status | Changed | Duration |\n|---|---|---|---:|---:|\n")
	for _, h := range s.Hosts {
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s |\n", cell(h.Host), batchName(h.Batch), cell(h.Status), h.Changed, took(h.TimeMS))
	}

	if rows := unitRows(s); hasTimings(rows) {
		b.WriteString("\n## Stop times, before → after\n\n| Host | Unit | Before → after | In flight | Verdict |\n|---|---|---|---:|---|\n")
		for _, r := range rows {
			t := r.Timing
			fmt.Fprintf(&b, "| %s | %s | %s → %s | %s | %s |\n", cell(r.Host), cell(orDash(t.Unit)), cell(stopNote(t.Before, t.BeforeNote)),
				cell(stopNote(t.After, t.AfterNote)), inFlight(t.InFlight), cell(verdict(r)))
		}
	}

	if fs := failures(s); len(fs) > 0 {
		b.WriteString("\n## Failures\n\n")
		for _, h := range fs {
			fmt.Fprintf(&b, "- **%s** %s at `%s`: %s\n", h.Host, h.Status, stepOf(h), oneLine(h.Error))
		}
	}

	writeChangesMarkdown(&b, s)
	return b.Bytes()
}

func writeChangesMarkdown(b *bytes.Buffer, s jsonl.Summary) {
	header := false
	for _, h := range s.Hosts {
		for _, c := range h.Changes {
			if !header {
				b.WriteString("\n## Changes\n\n| Host | Path | Old → new sha256 | Backup |\n|---|---|---|---|\n")
				header = true
			}
			fmt.Fprintf(b, "| %s | `%s` | %s → %s%s | %s |\n", cell(h.Host), cell(c.Path), sha(c.OldSHA256), sha(c.NewSHA256), doneMark(c.Done), code(c.Backup))
		}
	}
}

// hasTimings reports whether any row has a stop to show.
func hasTimings(rows []unitRow) bool {
	for _, r := range rows {
		if t := r.Timing; t.Before != nil || t.After != nil || t.BeforeNote != "" || t.AfterNote != "" {
			return true
		}
	}
	return false
}

// verdict is the row's verdict in a word or a cause.
func verdict(r unitRow) string {
	switch {
	case r.Failure != "":
		return "FAIL: " + r.Failure
	case r.Skipped != "":
		return "skipped: " + r.Skipped
	case r.Timing.Idle():
		return "ok (" + fleet.IdleNote + ")"
	}
	return "ok"
}

func inFlight(n *int) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

// sha is a sha256 in code, "(none)" for a file that did not exist.
func sha(s string) string {
	if s == "" {
		return "(none)"
	}
	return "`" + s + "`"
}

func code(s string) string {
	if s == "" {
		return "-"
	}
	return "`" + cell(s) + "`"
}

func doneMark(done bool) string {
	if done {
		return ""
	}
	return " (not written)"
}

// cell makes s safe in a Markdown table cell: one line, pipes escaped.
func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }

// oneLine is s's first line, with an ellipsis when there was more.
func oneLine(s string) string {
	line := firstLine(s)
	if strings.Contains(strings.TrimSpace(s), "\n") {
		line += " …"
	}
	return line
}
