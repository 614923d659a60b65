package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/jsonl"
	"github.com/fleetfix/fleetfix/plain"
	"golang.org/x/term"
)

// format is an --output format: how the commands that reach hosts report a
// run's events and its summary, and a scan.
type format struct {
	name string
	help string // the name as --output's help describes it
	// run returns the consumer of a run's events and the printer of its
	// summary, both writing to w.
	run func(w io.Writer, runID string, verbose bool) (fleet.Reporter, func(command string, s *fleet.Summary))
	// scanEvents is the consumer of a scan's events, written to w (stderr:
	// the scan's table or line is the output).
	scanEvents func(w io.Writer, verbose bool) fleet.Reporter
	scan       func(w io.Writer, results []fleet.ScanResult, took time.Duration)
	// unlock is run's counterpart for an unlock, whose plain text is one
	// line per host: who held its lock and what was done.
	unlock func(w io.Writer) (fleet.Reporter, func(command string, s *fleet.Summary))
	// interactive: on a terminal, a rollout runs in the TUI instead.
	interactive bool
}

// formats are the registered output formats, the default first.
func formats() []format {
	return []format{
		{
			name: "plain", help: "plain", interactive: true,
			run: func(w io.Writer, _ string, verbose bool) (fleet.Reporter, func(string, *fleet.Summary)) {
				return plain.NewReporter(w, verbose), func(_ string, s *fleet.Summary) { plain.SummaryWidth(w, s, termWidth(w)) }
			},
			scanEvents: func(w io.Writer, verbose bool) fleet.Reporter {
				if !verbose {
					return nop{}
				}
				return plain.NewReporter(w, true)
			},
			scan: plain.Scan,
			unlock: func(w io.Writer) (fleet.Reporter, func(string, *fleet.Summary)) {
				u := plain.NewUnlockReporter(w)
				return u, u.Summary
			},
		},
		{
			name: "json", help: "json (JSON lines, see README)",
			run: func(w io.Writer, runID string, _ bool) (fleet.Reporter, func(string, *fleet.Summary)) {
				j := jsonl.NewWriter(w, runID)
				return j, j.Summary
			},
			scanEvents: func(io.Writer, bool) fleet.Reporter { return nop{} },
			scan: func(w io.Writer, results []fleet.ScanResult, took time.Duration) {
				jsonl.NewWriter(w, "").Scan(results, took)
			},
			unlock: func(w io.Writer) (fleet.Reporter, func(string, *fleet.Summary)) {
				j := jsonl.NewWriter(w, "")
				return j, j.Summary
			},
		},
	}
}

// nop drops every event.
type nop struct{}

func (nop) Report(fleet.Event) {}

// formatNamed returns the registered format name; a usage error lists the
// registered names.
func formatNamed(name string) (format, error) {
	var names []string
	for _, f := range formats() {
		if f.name == name {
			return f, nil
		}
		names = append(names, f.name)
	}
	return format{}, usageError{fmt.Errorf("--output %q: want %s", name, strings.Join(names, " or "))}
}

// formatsHelp describes the registered formats for --output's help.
func formatsHelp() string {
	var names []string
	for _, f := range formats() {
		names = append(names, f.help)
	}
	return "output format: " + strings.Join(names, " or ")
}

// termWidth is the width of the terminal w is, 0 when w is not one (a file
// or a pipe gets the summary's wide form: nothing wraps there, and a
// script's lines stay one per row).
func termWidth(w io.Writer) int {
	file, ok := w.(*os.File)
	if !ok {
		return 0
	}
	cols, _, err := term.GetSize(int(file.Fd()))
	if err != nil {
		return 0
	}
	return cols
}

// interactive says whether a rollout gets the TUI: the format has an
// interactive front end, --plain was not asked for, and out is a terminal
// that is not dumb.
func (f *commonFlags) interactive(out io.Writer) bool {
	if !f.format.interactive || f.plain || os.Getenv("TERM") == "dumb" {
		return false
	}
	file, ok := out.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}
