package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
)

// JSONSchema is the version of the JSON lines output; see README.
const JSONSchema = 1

// plainReporter prints one line per event, prefixed by host.
type plainReporter struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool
}

func (p *plainReporter) Report(e fleet.Event) {
	if e.Phase == fleet.PhaseStart && e.Host != "" && !p.verbose {
		return
	}
	if e.Phase == fleet.PhaseInfo && !e.Warning && !p.verbose && !strings.HasPrefix(e.Message, "would ") {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	host := e.Host
	if host == "" {
		host = "*"
	}
	phase := string(e.Phase)
	if e.Warning {
		phase = "warn"
	}
	line := fmt.Sprintf("%-12s %-9s %-7s", host, e.Step, phase)
	if e.Duration > 0 {
		line += fmt.Sprintf(" %8s", fmtDur(e.Duration))
	}
	if e.Message != "" {
		line += "  " + e.Message
	}
	fmt.Fprintln(p.w, strings.TrimRight(line, " "))
	for _, c := range e.Changes {
		fmt.Fprintf(p.w, "%-12s   %s\n", host, describeChange(c))
		for _, l := range strings.Split(strings.TrimRight(c.Diff, "\n"), "\n") {
			if l != "" {
				fmt.Fprintf(p.w, "%-12s       %s\n", host, l)
			}
		}
	}
}

func describeChange(c fleet.Change) string {
	if !c.Existed {
		return fmt.Sprintf("+ %s  new %s  %s %s", c.Path, short(c.NewSHA256), c.NewMode, c.NewOwner)
	}
	s := fmt.Sprintf("~ %s  %s -> %s", c.Path, short(c.OldSHA256), short(c.NewSHA256))
	if c.OldMode != c.NewMode {
		s += "  mode " + c.OldMode + " -> " + c.NewMode
	}
	if c.OldOwner != c.NewOwner {
		s += "  owner " + c.OldOwner + " -> " + c.NewOwner
	}
	if c.Backup != "" {
		s += "  backup " + c.Backup
	}
	return s
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	default:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
}

// jsonReporter writes one JSON object per line.
type jsonReporter struct {
	mu    sync.Mutex
	enc   *json.Encoder
	runID string
}

func newJSONReporter(w io.Writer, runID string) *jsonReporter {
	return &jsonReporter{enc: json.NewEncoder(w), runID: runID}
}

// jsonEvent is the documented shape of an event line.
type jsonEvent struct {
	Schema     int            `json:"schema"`
	Type       string         `json:"type"` // "event"
	Time       time.Time      `json:"time"`
	RunID      string         `json:"run_id,omitempty"`
	Host       string         `json:"host,omitempty"`
	Step       fleet.Step     `json:"step"`
	Phase      fleet.Phase    `json:"phase"`
	Batch      *int           `json:"batch,omitempty"`
	DurationMS float64        `json:"duration_ms,omitempty"`
	Message    string         `json:"message,omitempty"`
	Warning    bool           `json:"warning,omitempty"`
	Error      string         `json:"error,omitempty"`
	Changes    []fleet.Change `json:"changes,omitempty"`
	Result     *jsonHostLine  `json:"result,omitempty"`
}

func (j *jsonReporter) Report(e fleet.Event) {
	ev := jsonEvent{Schema: JSONSchema, Type: "event", Time: e.Time.UTC(), RunID: j.runID, Host: e.Host, Step: e.Step, Phase: e.Phase,
		DurationMS: ms(e.Duration), Message: e.Message, Warning: e.Warning, Changes: e.Changes}
	if e.Result != nil {
		l := hostLine(*e.Result)
		ev.Result = &l
	}
	if e.Batch >= 0 && e.Host != "" {
		b := e.Batch
		ev.Batch = &b
	}
	if e.Err != nil {
		ev.Error = e.Err.Error()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.enc.Encode(ev)
}

// jsonSummary is the documented shape of the final line.
type jsonSummary struct {
	Schema     int            `json:"schema"`
	Type       string         `json:"type"` // "summary"
	Command    string         `json:"command"`
	RunID      string         `json:"run_id,omitempty"`
	OK         bool           `json:"ok"`
	Halted     bool           `json:"halted"`
	Failed     int            `json:"failed"`
	DurationMS float64        `json:"duration_ms"`
	Hosts      []jsonHostLine `json:"hosts"`
}

type jsonHostLine struct {
	Host      string  `json:"host"`
	Batch     int     `json:"batch"`
	Status    string  `json:"status"`
	Step      string  `json:"step,omitempty"`
	Error     string  `json:"error,omitempty"`
	Changed   int     `json:"changed"`
	RestartMS float64 `json:"restart_ms,omitempty"`
	TimeMS    float64 `json:"duration_ms"`
	RunID     string  `json:"run_id,omitempty"`
}

func (j *jsonReporter) summary(command string, s *fleet.Summary) {
	out := jsonSummary{Schema: JSONSchema, Type: "summary", Command: command, RunID: s.RunID, OK: s.OK(), Halted: s.Halted,
		Failed: s.Failed(), DurationMS: ms(s.Duration), Hosts: []jsonHostLine{}}
	for _, h := range s.Hosts {
		out.Hosts = append(out.Hosts, hostLine(h))
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.enc.Encode(out)
}

func hostLine(h fleet.HostResult) jsonHostLine {
	return jsonHostLine{Host: h.Host, Batch: h.Batch, Status: string(h.Status), Step: string(h.Step),
		Error: h.Error, Changed: h.Changed, RestartMS: ms(h.RestartTime), TimeMS: ms(h.Duration), RunID: h.RunID}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// printSummary prints the final table of a run.
func printSummary(w io.Writer, s *fleet.Summary) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tBATCH\tRESULT\tSTEP\tCHANGED\tRESTART\tTIME\tERROR")
	for _, h := range s.Hosts {
		batch := "-"
		if h.Batch == 0 {
			batch = "canary"
		} else if h.Batch > 0 {
			batch = fmt.Sprint(h.Batch)
		}
		restart := "-"
		if h.RestartTime > 0 {
			restart = fmtDur(h.RestartTime)
		}
		step := string(h.Step)
		if step == "" {
			step = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", h.Host, batch, h.Status, step, h.Changed, restart, fmtDur(h.Duration), firstLine(h.Error))
	}
	tw.Flush()
	verdict := "all hosts ok"
	if !s.OK() {
		verdict = fmt.Sprintf("%d failed", s.Failed())
		if s.Halted {
			verdict += ", run halted"
		}
	}
	id := ""
	if s.RunID != "" {
		id = "run " + s.RunID + ": "
	}
	fmt.Fprintf(w, "%s%d host(s), %s, in %s\n", id, len(s.Hosts), verdict, fmtDur(s.Duration))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
