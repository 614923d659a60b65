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
	"github.com/fleetfix/fleetfix/journal"
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
	// Reboot and Timings are present when the host was rebooted.
	Reboot  *jsonReboot  `json:"reboot,omitempty"`
	Timings []jsonTiming `json:"timings,omitempty"`
}

type jsonReboot struct {
	OldBootID string  `json:"old_boot_id"`
	NewBootID string  `json:"new_boot_id"`
	DownMS    float64 `json:"down_ms"`
	BackMS    float64 `json:"back_ms"`
	ActiveMS  float64 `json:"active_ms"`
	NoticedMS float64 `json:"noticed_ms,omitempty"`
}

// jsonStop is one unit's stop at one shutdown.
type jsonStop struct {
	Unit   string    `json:"unit"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	StopMS float64   `json:"stop_ms"`
	Killed bool      `json:"killed"`
	Result string    `json:"result"`
	// Unfinished: the journal ends mid-stop; stop_ms is a lower bound.
	Unfinished bool `json:"unfinished,omitempty"`
}

type jsonTiming struct {
	Unit       string    `json:"unit"`
	Before     *jsonStop `json:"before,omitempty"`
	After      *jsonStop `json:"after,omitempty"`
	BeforeNote string    `json:"before_note,omitempty"`
	AfterNote  string    `json:"after_note,omitempty"`
}

func stopJSON(u journal.UnitStop) jsonStop {
	return jsonStop{Unit: u.Unit, Start: u.Start.UTC(), End: u.End.UTC(), StopMS: ms(u.Duration), Killed: u.Killed, Result: u.Result, Unfinished: u.Unfinished}
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
	l := jsonHostLine{Host: h.Host, Batch: h.Batch, Status: string(h.Status), Step: string(h.Step),
		Error: h.Error, Changed: h.Changed, RestartMS: ms(h.RestartTime), TimeMS: ms(h.Duration), RunID: h.RunID}
	if r := h.Reboot; r != nil {
		l.Reboot = &jsonReboot{OldBootID: r.OldBootID, NewBootID: r.NewBootID, DownMS: ms(r.Down), BackMS: ms(r.Back), ActiveMS: ms(r.Active), NoticedMS: ms(r.Noticed)}
	}
	for _, t := range h.Timings {
		jt := jsonTiming{Unit: t.Unit, BeforeNote: t.BeforeNote, AfterNote: t.AfterNote}
		if t.Before != nil {
			b := stopJSON(*t.Before)
			jt.Before = &b
		}
		if t.After != nil {
			a := stopJSON(*t.After)
			jt.After = &a
		}
		l.Timings = append(l.Timings, jt)
	}
	return l
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
	printTimings(w, s)
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

// printTimings prints, for rebooted hosts, each unit's stop before and after
// and how the reboot went: the picture the rollout exists for.
func printTimings(w io.Writer, s *fleet.Summary) {
	any := false
	for _, h := range s.Hosts {
		if h.Reboot != nil || len(h.Timings) > 0 {
			any = true
		}
	}
	if !any {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tUNIT\tSTOP BEFORE\tSTOP AFTER\tREBOOT: DOWN\tBACK\tACTIVE")
	for _, h := range s.Hosts {
		down, back, active := "-", "-", "-"
		if r := h.Reboot; r != nil {
			down, back, active = fmtDur(r.Down), fmtDur(r.Back), fmtDur(r.Active)
		}
		if len(h.Timings) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t%s\t%s\t%s\n", h.Host, down, back, active)
		}
		for _, t := range h.Timings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Host, t.Unit, fleet.DescribeStop(t.Before, t.BeforeNote), fleet.DescribeStop(t.After, t.AfterNote), down, back, active)
		}
	}
	tw.Flush()
}
