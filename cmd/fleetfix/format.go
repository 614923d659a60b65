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
	"github.com/fleetfix/fleetfix/report"
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
	// interactive is the front end a run that changes hosts gets instead
	// of the format's lines on a terminal that can draw it (frontEnd).
	interactive front
}

// formats are the registered output formats, the default first.
func formats() []format {
	return []format{
		{
			name: "plain", help: "plain", interactive: frontTUI,
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

// front is what shows a run to the operator.
type front int

const (
	// frontLines: the --output format's lines (plain or JSON).
	frontLines front = iota
	// frontTUI: the TUI, which plans, asks to start, and shows the run
	// live.
	frontTUI
	// frontConfirm: the format's lines, the plan printed and the start
	// asked on stdin first: an operator is there, on a terminal that
	// cannot draw the TUI (TERM=dumb), and nothing changes a host
	// unconfirmed.
	frontConfirm
)

// String names the front end, for tests and errors.
func (fe front) String() string {
	switch fe {
	case frontTUI:
		return "tui"
	case frontConfirm:
		return "confirm"
	default:
		return "lines"
	}
}

// console is what the front end is chosen by beside the flags: whether
// stdout is a terminal, and $TERM.
type console struct {
	terminal bool
	term     string
}

// consoleOf is the console out is.
func consoleOf(out io.Writer) console {
	file, ok := out.(*os.File)
	return console{terminal: ok && term.IsTerminal(int(file.Fd())), term: os.Getenv("TERM")}
}

// frontEnd is the one answer to which front end runs a run that changes
// hosts: the format's interactive one (the TUI for plain) on a terminal,
// unless --plain or dry (a plan, a dry run: nothing to steer or confirm);
// on a dumb terminal the format's lines after a confirmation; else the
// format's lines.
func (f *commonFlags) frontEnd(c console, dry bool) front {
	if f.format.interactive == frontLines || f.plain || dry || !c.terminal {
		return frontLines
	}
	if c.term == "dumb" {
		return frontConfirm
	}
	return f.format.interactive
}

// reportFormat is a report format: a run's stored summary, or a scan, as
// one document (`fleetfix report --format`, `scan --format`).
type reportFormat struct {
	name string
	run  func(jsonl.Summary) ([]byte, error)
	scan func(jsonl.Scan) ([]byte, error) // nil: not a scan format
}

// reportFormats are the registered report formats, the default first.
func reportFormats() []reportFormat {
	return []reportFormat{
		{name: "md", run: noErr(report.Markdown), scan: noErr(report.ScanMarkdown)},
		{name: "html", run: report.HTML, scan: report.ScanHTML},
		{name: "junit", run: report.JUnit},
	}
}

func noErr[T any](f func(T) []byte) func(T) ([]byte, error) {
	return func(v T) ([]byte, error) { return f(v), nil }
}

// reportFormatNamed returns the report format name; scan asks for a scan
// format. A usage error lists the registered names.
func reportFormatNamed(name string, scan bool) (reportFormat, error) {
	var names []string
	for _, f := range reportFormats() {
		if scan && f.scan == nil {
			continue
		}
		if f.name == name {
			return f, nil
		}
		names = append(names, f.name)
	}
	return reportFormat{}, usageError{fmt.Errorf("--format %q: want %s", name, strings.Join(names, ", "))}
}

// scanWriter is the writer of a scan's results: the --output format's, or
// with --format (report, not "") that report format's document instead.
// The two are one choice: --format with an --output given (outputSet) is
// a usage error, as a report is not JSON lines nor plain lines.
func (f *commonFlags) scanWriter(report string, outputSet bool) (func(io.Writer, []fleet.ScanResult, time.Duration), error) {
	if report == "" {
		return f.format.scan, nil
	}
	if outputSet {
		return nil, usageError{fmt.Errorf("--format %s and --output %s: give one (--format writes the scan as a report instead of --output's format)", report, f.output)}
	}
	rf, err := reportFormatNamed(report, true)
	if err != nil {
		return nil, err
	}
	return func(w io.Writer, results []fleet.ScanResult, took time.Duration) {
		b, err := rf.scan(jsonl.NewScan(results, took))
		if err != nil {
			b = []byte("fleetfix: scan report: " + err.Error() + "\n")
		}
		_, _ = w.Write(b) // as every format's scan: the output is all there is to tell
	}, nil
}
