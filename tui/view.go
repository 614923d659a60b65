package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/fleetfix/fleetfix/internal/duration"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/journal"
	"github.com/fleetfix/fleetfix/plain"
)

// Render is the current screen as text, exactly the terminal's height in
// lines, none wider than its width. Without color it holds no escape code.
func (m Model) Render() string {
	var lines []string
	if p, ok := m.scrollParts(); ok {
		lines = m.compose(p)
	} else {
		lines = m.runView()
	}
	out := frame(lines, m.width, m.height)
	if m.st.noColor {
		out = ansi.Strip(out)
	}
	return out
}

// batchShort is the table's batch: canary, 1, 2...
func batchShort(b int) string {
	if b > 0 {
		return fmt.Sprint(b)
	}
	return batchName(b)
}

func batchName(b int) string {
	switch {
	case b == 0:
		return "canary"
	case b > 0:
		return fmt.Sprintf("batch %d", b)
	}
	return "-"
}

// ---- header ------------------------------------------------------------

// badge is the title's word on the run and its style: the outcome's
// colour once it is over.
func (m Model) badge() (string, lipgloss.Style) {
	c := m.run.Counts()
	switch {
	case m.run.Finished && (m.run.Failed || c.Failed > 0):
		return "FAILED", m.st.badgeFailed
	case m.run.Finished && c.Cancelled > 0:
		return "STOPPED", m.st.banner
	case m.run.Finished && (c.Halted > 0 || c.NotStarted > 0):
		return "HALTED", m.st.banner
	case m.run.Finished:
		return "OK", m.st.badgeOK
	case m.stopping:
		return "STOPPING", m.st.banner
	case m.aborting:
		return "ABORTING", m.st.banner
	case m.paused:
		return "PAUSED", m.st.banner
	case m.started:
		return "RUNNING", m.st.badgeRunning
	}
	return "", m.st.banner
}

func (m Model) titleLine() string {
	tag, style := m.badge()
	title := m.st.title.Render(m.cfg.Title)
	if tag == "" {
		return title
	}
	t := style.Render(tag)
	if m.st.noColor {
		t = "[" + tag + "]"
	}
	gap := m.width - ansi.StringWidth(title) - ansi.StringWidth(t)
	if gap < 1 {
		title = ansi.Truncate(title, max(0, m.width-ansi.StringWidth(t)-1), "…")
		gap = 1
	}
	return title + strings.Repeat(" ", gap) + t
}

// countsLine is the hosts by state: ok and failed always, the other
// states when a host is in them, so that it fits 80 columns.
func (m Model) countsLine() string {
	c := m.run.Counts()
	parts := []string{fmt.Sprintf("%d hosts", c.Total)}
	for _, it := range []struct {
		label  string
		n      int
		always bool
		st     lipgloss.Style
	}{
		{"queued", c.Queued, false, m.st.queued},
		{"running", c.Running, false, m.st.running},
		{"ok", c.OK + c.Unchanged, true, m.st.ok},
		{"failed", c.Failed, true, m.st.failed},
		{"cancelled", c.Cancelled, false, m.st.warn},
		{"halted", c.Halted, false, m.st.warn},
		{"not started", c.NotStarted, false, m.st.queued},
		{"rolling back", c.RollingBack, false, m.st.running},
		{"rolled back", c.RolledBack, false, m.st.rolled},
	} {
		switch {
		case it.n > 0:
			s := fmt.Sprintf("%s %d", it.label, it.n)
			if it.label == "ok" && c.Unchanged > 0 {
				s += fmt.Sprintf(" (%d unchanged)", c.Unchanged)
			}
			parts = append(parts, it.st.Render(s))
		case it.always:
			parts = append(parts, it.label+" 0")
		}
	}
	return strings.Join(parts, " · ")
}

func (m Model) progressLine() string {
	now := m.now()
	p := m.run.Progress()
	var suffix string
	switch {
	case !m.started:
		suffix = "not started"
	case m.run.Finished:
		suffix = "done in " + duration.Format(m.run.Elapsed(now))
	default:
		suffix = "elapsed -" // the run's start event has not come yet
		if !m.run.Started.IsZero() {
			suffix = "elapsed " + duration.Format(m.run.Elapsed(now))
		}
		eta, ok := m.run.ETA(now, m.cfg.Policy.MaxParallel)
		switch {
		case m.paused:
			suffix += " · paused"
		case m.aborting:
			suffix += " · aborting"
		case ok:
			suffix += " · ETA ~" + duration.Format(eta)
		default:
			suffix += " · ETA after the canary"
		}
	}
	suffix = fmt.Sprintf(" %3.0f%%  %s", p*100, suffix)
	bar := m.bar
	bar.SetWidth(max(10, m.width-ansi.StringWidth(suffix)))
	return bar.ViewAs(p) + suffix
}

func (m Model) header() []string {
	return []string{m.titleLine(), m.countsLine(), m.progressLine(), m.fleetLine()}
}

// fleetLine is the stop times fleet-wide so far, "" before any.
func (m Model) fleetLine() string {
	var rows []plain.TimingRow
	for i := range m.run.Hosts {
		rows = append(rows, m.run.Hosts[i].TimingRows()...)
	}
	if l := plain.FleetLine(rows); l != "" {
		return m.st.faint.Render("stops: " + l)
	}
	return ""
}

// ---- running screen ----------------------------------------------------

type columns struct {
	name, batch, step, steps, time, result, gap int
}

func (m Model) columns() columns {
	c := columns{name: 4, batch: 6, step: 9, steps: len(m.run.Steps), time: 6, result: 12, gap: 1}
	for _, h := range m.run.Hosts {
		c.name = max(c.name, ansi.StringWidth(h.Name))
	}
	c.name = min(c.name, 20)
	if m.width >= 100 {
		c.gap = 2
	} else {
		c.step = 0 // 80 columns: the stop times and errors need the room
	}
	return c
}

func (m Model) tableHeader(c columns) string {
	g := strings.Repeat(" ", c.gap)
	lastHead := "STOP BEFORE → AFTER"
	if m.width >= 100 {
		lastHead += " / ERROR"
	}
	step := ""
	if c.step > 0 {
		step = fit("STEP", c.step) + g
	}
	return m.st.header.Render("  " + fit("HOST", c.name) + g + fit("BATCH", c.batch) + g + step +
		fit("STEPS", c.steps) + g + fit("TIME", c.time) + g + fit("RESULT", c.result) + g + lastHead)
}

// stepGlyphs is the host's steps as ▰ done, ✗ failed, ▱ to do.
func (m Model) stepGlyphs(h *Host) string {
	var b strings.Builder
	for _, s := range m.run.Steps {
		switch {
		case h.Done[s]:
			b.WriteString("▰")
		case s == h.FailedStep && (h.Status == StatusFailed || h.Status == StatusRollbackFailed || h.Status == StatusRolledBack || h.Status == StatusRollingBack):
			b.WriteString("✗")
		case h.Status == StatusUnchanged:
			b.WriteString("▰")
		default:
			b.WriteString("▱")
		}
	}
	return b.String()
}

// stepLabel is what the STEP column says.
func stepLabel(h *Host) string {
	switch h.Status {
	case StatusQueued, StatusNotStarted:
		return "-"
	case StatusRunning:
		return string(h.Step)
	case StatusOK:
		return "done"
	case StatusUnchanged:
		return "-"
	case StatusFailed, StatusCancelled:
		return string(h.FailedStep)
	case StatusHalted:
		if h.Result != nil && h.Result.Step != "" {
			return string(h.Result.Step)
		}
		return string(h.Step)
	}
	return "rollback"
}

func resultLabel(s Status) string {
	switch s {
	case StatusRollbackFailed:
		return "rollback ✗"
	case StatusOK:
		return "✓ ok"
	case StatusFailed:
		return "✗ failed"
	}
	return string(s)
}

// stopBrief is "3.17s ✗KILL" or "0.018s ✓".
func stopBrief(u *journal.UnitStop) string {
	if u == nil {
		return "n/a"
	}
	d := duration.Stop(u.Duration)
	switch {
	case u.Killed:
		return d + " ✗KILL"
	case u.Result == "clean":
		return d + " ✓"
	}
	return d + " " + u.Result
}

// lastColumn is the row's stop times, or its error, or a word on its state.
func (m Model) lastColumn(h *Host) string {
	switch h.Status {
	case StatusRolledBack:
		return m.st.rolled.Render("files restored")
	case StatusRollingBack:
		return m.st.running.Render("rolling back…")
	case StatusCancelled:
		return m.st.warn.Render("stopped by the operator")
	}
	if ts := h.Timings(); len(ts) > 0 {
		t := ts[0]
		b, a := stopBrief(t.Before), stopBrief(t.After)
		if t.Before != nil && t.Before.Killed {
			b = m.st.before.Render(b)
		}
		if t.After != nil && !t.After.Killed {
			a = m.st.after.Render(a)
		}
		s := b + " → " + a
		if len(ts) > 1 {
			s += fmt.Sprintf(" +%d", len(ts)-1)
		}
		return s
	}
	switch h.Status {
	case StatusFailed, StatusRollbackFailed:
		return m.st.failed.Render(h.Error)
	case StatusUnchanged:
		return m.st.faint.Render("already at the target")
	case StatusHalted, StatusNotStarted:
		if h.Result != nil {
			return m.st.warn.Render(h.Result.Error)
		}
	case StatusRunning:
		if h.Step == fleet.StepRestart && h.Phase == fleet.PhaseStart {
			return m.st.faint.Render(m.oldStopCountdown(h))
		}
		if h.Step == fleet.StepReboot && h.Phase == fleet.PhaseStart {
			return m.st.faint.Render("rebooting…")
		}
	}
	return ""
}

// oldStopCountdown is a restart's long wait: the old build's stop, and the
// time left before fleetfix SIGKILLs it when the policy bounds it.
func (m Model) oldStopCountdown(h *Host) string {
	bound := m.cfg.Policy.OldStop
	if bound <= 0 || h.StepStarted.IsZero() {
		return "stopping the old build…"
	}
	left := bound - m.now().Sub(h.StepStarted)
	if left <= 0 {
		return "old build: SIGKILLed, starting the new one…"
	}
	return fmt.Sprintf("old build: SIGKILL in %ds", int(left.Round(time.Second).Seconds()))
}

func (m Model) hostRow(i int, c columns, now time.Time) string {
	h := &m.run.Hosts[i]
	g := strings.Repeat(" ", c.gap)
	el := "-"
	if d := m.run.HostElapsed(h, now); d > 0 {
		el = duration.Format(d)
	}
	marker := "  "
	if i == m.selected {
		marker = "▸ "
	}
	st := m.st.status(h.Status)
	step, result := "", resultLabel(h.Status)
	switch {
	case c.step > 0:
		step = fit(stepLabel(h), c.step) + g
	case h.Status == StatusRunning:
		result = "at " + string(h.Step) // narrow: the step is the result column's
	}
	row := marker + fit(h.Name, c.name) + g + fit(batchShort(h.Batch), c.batch) + g + step +
		st.Render(fit(m.stepGlyphs(h), c.steps)) + g + fit(el, c.time) + g + st.Render(fit(result, c.result)) + g
	rest := m.width - ansi.StringWidth(row)
	row += fit(m.lastColumn(h), rest)
	if i == m.selected && !m.st.noColor {
		// The cells' own colours would end the highlight mid-row.
		row = m.st.selected.Render(ansi.Strip(row))
	}
	return row
}

func (m Model) runView() []string {
	out := m.header()
	bottom := m.bottomLines()
	avail := m.height - len(out) - len(bottom)
	c := m.columns()
	vis := m.visible()
	n := len(vis)
	// The table gets what it needs up to all but a detail pane of at least
	// 5 lines (title + 4); the detail pane gets the rest.
	rows := min(max(n, 1), max(3, avail-1-6))
	rows = max(0, min(rows, avail-1))
	head := m.tableHeader(c)
	offset := max(0, min(m.position(vis)-rows+1, n-rows))
	if st := m.listState(vis, offset, rows); st != "" {
		w := ansi.StringWidth(st) + 1
		head = fit(head, max(m.width-w, 0)) + " " + m.st.faint.Render(st)
	}
	out = append(out, head)
	now := m.now()
	for k := offset; k < offset+rows && k < n; k++ {
		out = append(out, m.hostRow(vis[k], c, now))
	}
	for k := n; k < rows; k++ {
		out = append(out, "")
	}
	detailH := avail - 1 - rows
	out = append(out, m.detailPane(detailH)...)
	return append(out, bottom...)
}

// bottomLines are the confirm dialog (if any), the status line and the
// help line.
func (m Model) bottomLines() []string {
	var out []string
	if d := m.dialog(); d != "" {
		out = append(out, strings.Split(d, "\n")...)
	}
	if l := m.statusLine(); l != "" {
		// Wrapped, not cut: a hint at its end (ctrl+c: stop now) is
		// the point of it.
		out = append(out, strings.Split(ansi.Wrap(l, m.width, " "), "\n")...)
	} else {
		out = append(out, "")
	}
	hm := m.help
	hm.Styles = m.st.help()
	hm.SetWidth(m.width)
	var keys helpKeys
	switch {
	case m.screen == screenTimings:
		keys = helpKeys{short: []key.Binding{
			key.NewBinding(key.WithKeys("t"), key.WithHelp("t/esc", "back")),
			key.NewBinding(key.WithKeys("up"), key.WithHelp("↑↓/pgup/pgdn", "scroll")),
			m.keys.Rollback, m.keys.Help, m.keys.Quit}}
	case m.expanded:
		keys = helpKeys{short: []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter/esc", "back")),
			key.NewBinding(key.WithKeys("up"), key.WithHelp("↑↓", "host")),
			key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup/pgdn", "scroll")),
			m.keys.Rollback, m.keys.Help, m.keys.Quit}}
	default:
		keys = m.keys.runHelp(m.paused, !m.started || m.run.Finished)
	}
	return append(out, hm.View(keys))
}

func (m Model) statusLine() string {
	switch {
	case m.flash != "":
		return m.st.warn.Render(m.flash)
	case m.run.Failed:
		return m.st.failed.Render("✗ the run failed: "+m.run.Message) + " · q: exit"
	case m.run.Finished:
		return m.endLine()
	case m.stopping:
		return m.st.warn.Render("stopping now: steps in progress are cancelled")
	case m.aborting:
		return m.st.warn.Render("aborting: no new host starts; hosts in flight stop at their next step")
	case m.paused:
		return m.st.warn.Render("paused: no new host starts; hosts in flight go on (p: resume)")
	case m.closed:
		return m.st.faint.Render("event stream closed")
	}
	return ""
}

// endLine is the status line of a finished run: how it ended, cause
// first.
func (m Model) endLine() string {
	c := m.run.Counts()
	msg := "run finished in " + duration.Format(m.run.Elapsed(m.now()))
	_, why, halted := strings.Cut(m.run.Message, "; halted: ")
	switch {
	case c.Cancelled > 0:
		msg = "run stopped by the operator after " + duration.Format(m.run.Elapsed(m.now()))
	case halted:
		msg += " · halted: " + why
	}
	if c.Failed > 0 || c.Halted > 0 || c.Cancelled > 0 || c.NotStarted > 0 {
		return m.st.failed.Render("✗ "+msg) + " · q: exit"
	}
	if c.RolledBack > 0 {
		msg += fmt.Sprintf(" · %d rolled back", c.RolledBack)
	}
	return m.st.ok.Render("✓ "+msg) + " · q: exit"
}

func (m Model) dialog() string {
	var q string
	switch m.confirm {
	case confirmAbort:
		q = "Abort the run? No new host starts; hosts in flight stop at their next step."
	case confirmRollback:
		q = fmt.Sprintf("Roll back %s? Its files are restored from the backups, then reload and restart.", m.confirmHost)
	case confirmQuit:
		if m.started && !m.run.Finished {
			q = "Quit? The run is aborted gracefully; the rest is printed as plain lines."
		} else {
			q = "Quit? The rollback in progress runs to its end; the summary waits for it."
		}
	default:
		return ""
	}
	w := m.width - 2
	body := ansi.Wordwrap(q, w-4, " ") + "\n" + m.st.bold.Render("y") + " yes   " + m.st.bold.Render("n") + " no"
	return m.st.dialog.Width(w).Render(body)
}

// logLines renders a log, each line "15:04:05 step      text".
func (m Model) logLines(l []LogLine) []string {
	out := make([]string, 0, len(l))
	for _, ll := range l {
		s := fmt.Sprintf("%s %-9s %s", ll.Time.Format("15:04:05"), ll.Step, ll.Text)
		switch {
		case ll.Err:
			s = m.st.failed.Render(s)
		case ll.Warn:
			s = m.st.warn.Render(s)
		case ll.Phase == fleet.PhaseStart:
			s = m.st.faint.Render(s)
		}
		out = append(out, s)
	}
	return out
}

func (m Model) hostTitle(h *Host) string {
	s := h.Name + " · " + batchName(h.Batch) + " · " + string(h.Status)
	switch h.Status {
	case StatusRunning:
		s += " at " + string(h.Step)
	case StatusFailed:
		s += " at " + string(h.FailedStep)
	}
	if d := m.run.HostElapsed(h, m.now()); d > 0 {
		s += " · " + duration.Format(d)
	}
	return s
}

func (m Model) detailPane(height int) []string {
	if height <= 0 {
		return nil
	}
	h := m.selectedHost()
	if h == nil || m.position(m.visible()) < 0 {
		return nil // no host shown: nothing to detail
	}
	out := []string{m.st.faint.Render(rule(m.hostTitle(h), m.width))}
	var lines []string
	if h.Status == StatusCancelled {
		lines = append(lines, m.st.warn.Render(ansi.Truncate("■ "+h.Error, m.width, "…")))
	}
	if h.Error != "" && (h.Status == StatusFailed || h.Status == StatusRollbackFailed) {
		for _, l := range strings.Split(ansi.Wrap("✗ "+h.Error, m.width, " "), "\n") {
			lines = append(lines, m.st.failed.Render(l))
		}
	}
	log := m.logLines(h.Log)
	if len(log) == 0 {
		lines = append(lines, m.st.faint.Render("no events yet; planned:"))
		lines = append(lines, m.changeLines(h, "  ")...)
	}
	// The newest lines, under the error.
	room := height - 1 - len(lines)
	if room > 0 && len(log) > 0 {
		lines = append(lines, log[max(0, len(log)-room):]...)
	}
	if len(lines) > height-1 {
		lines = lines[:height-1]
	}
	for len(lines) < height-1 {
		lines = append(lines, "")
	}
	return append(out, lines...)
}

// expandedView is the selected host in full: state, error, changes, stop
// timings, reboot, and its whole log (newest at the bottom).
func (m Model) expandedParts() parts {
	p := parts{top: m.header(), bottom: m.bottomLines(), fromBottom: true}
	h := m.selectedHost()
	if h == nil {
		return p
	}
	// Pinned: what went wrong and the timings; scrolled: changes and log.
	p.top = append(p.top, m.st.bold.Render(rule(m.hostTitle(h), m.width)))
	if len(h.Units) > 0 {
		p.top = append(p.top, m.unitLines(h, "")...)
	}
	if h.Error != "" {
		el := strings.Split(ansi.Wrap("error: "+h.Error, m.width, " "), "\n")
		for _, l := range el[:min(len(el), 3)] {
			p.top = append(p.top, m.st.failed.Render(l))
		}
	}
	for _, r := range h.TimingRows() {
		p.top = append(p.top, fmt.Sprintf("stop %s: %s → %s", r.Timing.Unit, r.Before(), r.After()))
	}
	if h.Result != nil && h.Result.Reboot != nil {
		p.top = append(p.top, m.rebootLines(h.Result.Reboot, "")...)
	}
	p.body = []string{m.st.bold.Render("changes")}
	p.body = append(p.body, m.changeLines(h, "  ")...)
	p.body = append(p.body, m.st.bold.Render("log"))
	for _, l := range m.logLines(h.Log) {
		p.body = append(p.body, strings.Split(ansi.Wrap(l, m.width, " "), "\n")...)
	}
	return p
}

// changeLines are a host's planned changes, one line per file, then the
// drop-in's diff.
func (m Model) changeLines(h *Host, indent string) []string {
	var out []string
	switch {
	case h.PlanError != "":
		var out []string
		for _, l := range strings.Split(ansi.Wrap("plan failed: "+h.PlanError, max(m.width-len(indent), 10), " "), "\n") {
			out = append(out, indent+m.st.failed.Render(l))
		}
		return out
	case len(h.Changes) == 0 && h.Planned && h.Resume != "":
		return []string{indent + m.st.warn.Render("files already new; "+h.Resume+": its remaining steps run again")}
	case len(h.Changes) == 0 && h.Planned:
		return []string{indent + m.st.faint.Render("already at the target: nothing to change")}
	case len(h.Changes) == 0:
		return []string{indent + m.st.faint.Render("no plan")}
	}
	for _, c := range h.Changes {
		// One line a file, as the plan's page counts them: cut to the width.
		out = append(out, ansi.Truncate(indent+plain.ChangeLine(c, "→"), m.width, "…"))
		for _, d := range strings.Split(strings.TrimRight(c.Diff, "\n"), "\n") {
			switch {
			case d == "":
			case strings.HasPrefix(d, "+"):
				out = append(out, indent+"    "+m.st.diffAdd.Render(d))
			case strings.HasPrefix(d, "-"):
				out = append(out, indent+"    "+m.st.diffDel.Render(d))
			default:
				out = append(out, indent+"    "+d)
			}
		}
	}
	return out
}
