package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/journal"
	"github.com/fleetfix/fleetfix/jsonl"
)

//go:embed page.html
var pageSource string

// pageTemplate is parsed once; it holds no state.
var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"stop":      stopNote,
	"stopv":     stopText,
	"dur":       took,
	"dash":      orDash,
	"batch":     batchName,
	"step":      stepOf,
	"failed":    hostFailed,
	"firstLine": firstLine,
	"inflight":  inFlight,
	"verdict":   verdict,
	"sha":       orNone,
}).Parse(pageSource))

// page is what the HTML template draws; empty sections are left out.
type page struct {
	Title, Outcome string
	OK             bool
	Meta           []string
	Failures       []jsonl.Host
	ChartTitle     string
	Chart          template.HTML
	Rows           []unitRow
	Hosts          []jsonl.Host
	Timeline       template.HTML
	Changes        []changeRow
	Scan           []jsonl.ScanHost
}

// changeRow is one file changed on one host.
type changeRow struct {
	Host string
	fleet.Change
}

// HTML is the run s as one self-contained page (no external assets): the
// outcome, policy and who ran it, the failures, a chart of each host's
// units' stop times before and after (log scale, SIGKILLed marked), the
// units' table, the hosts, each host's reboot timeline and the files
// changed. It reads in light and dark mode and prints.
func HTML(s jsonl.Summary) ([]byte, error) {
	p := page{Title: title(s), Outcome: outcome(s), OK: s.OK, Meta: []string{origin(s), "Policy: " + policyLine(s.Policy)},
		Failures: failures(s), Hosts: s.Hosts}
	rows := unitRows(s)
	if hasTimings(rows) {
		p.Rows = rows
		p.ChartTitle = "Stop time per host and unit, before → after"
		p.Chart = template.HTML(stopChart(beforeAfter(rows), []series{{"Before", "before"}, {"After", "after"}})) //nolint:gosec // drawn here, every text escaped
	}
	if tl := timelineRows(s); len(tl) > 0 {
		p.Timeline = template.HTML(timeline(tl)) //nolint:gosec // drawn here, every text escaped
	}
	for _, h := range s.Hosts {
		for _, c := range h.Changes {
			p.Changes = append(p.Changes, changeRow{Host: h.Host, Change: c})
		}
	}
	return render(p)
}

// ScanHTML is a scan as one self-contained page: each host's units at its
// last shutdown, charted on a log scale (SIGKILLed marked) and tabled with
// their stop settings.
func ScanHTML(sc jsonl.Scan) ([]byte, error) {
	killed, hosts := scanCounts(sc)
	p := page{Title: "scan", Outcome: fmt.Sprintf("%d of %d host(s) with a SIGKILLed unit", killed, hosts), OK: killed == 0,
		Meta: []string{"took " + duration.Format(ms(sc.DurationMS))}, Scan: sc.Hosts}
	var rows []chartRow
	for _, h := range sc.Hosts {
		for _, u := range h.Units {
			rows = append(rows, chartRow{Label: h.Host + "  " + u.Unit, Bars: []bar{{MS: u.StopMS, Set: true, Killed: u.Killed}}})
		}
	}
	if len(rows) > 0 {
		p.ChartTitle = "Stop time per host and unit at the last shutdown"
		p.Chart = template.HTML(stopChart(rows, []series{{"Last shutdown", "last"}})) //nolint:gosec // drawn here, every text escaped
	}
	return render(p)
}

func render(p page) ([]byte, error) {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, p); err != nil {
		return nil, fmt.Errorf("html report: %w", err)
	}
	return b.Bytes(), nil
}

// beforeAfter are the rows with a stop as chart rows of two bars.
func beforeAfter(rows []unitRow) []chartRow {
	out := make([]chartRow, 0, len(rows))
	for _, r := range rows {
		t := r.Timing
		if t.Before == nil && t.After == nil {
			continue // nothing to draw: the units table says why
		}
		out = append(out, chartRow{Label: r.Host + "  " + orDash(t.Unit), Bars: []bar{barOf(t.Before, t.BeforeNote), barOf(t.After, t.AfterNote)}})
	}
	return out
}

func barOf(u *journal.UnitStop, note string) bar {
	if u == nil {
		return bar{Note: note}
	}
	return bar{MS: jsonl.MS(u.Duration), Set: true, Killed: u.Killed}
}

// timelineRows are the reboots of the run's hosts.
func timelineRows(s jsonl.Summary) []timelineRow {
	var out []timelineRow
	for _, h := range s.Hosts {
		if r := h.Reboot; r != nil {
			out = append(out, timelineRow{Host: h.Host, Down: r.DownMS, Back: r.BackMS, Active: r.ActiveMS, SSHDStopped: r.SSHDStoppedMS, Shutdown: r.ShutdownMS})
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
