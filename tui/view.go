package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

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

// parts of a screen with a scrolled middle.
type parts struct {
	top, body, bottom []string
	// fromBottom: the body is anchored at its end (a log) and the scroll
	// offset counts lines up from there.
	fromBottom bool
	// indicator: a "lines a-b of n" line above the bottom when the body
	// does not fit.
	indicator bool
}

// scrollParts returns the parts of the current screen, when it scrolls.
func (m Model) scrollParts() (parts, bool) {
	switch {
	case m.screen == screenPlan:
		return m.planParts(), true
	case m.screen == screenTimings:
		return m.timingsParts(), true
	case m.screen == screenHelp:
		return m.helpParts(), true
	case m.expanded:
		return m.expandedParts(), true
	}
	return parts{}, false
}

func (p parts) room(height int) int {
	r := height - len(p.top) - len(p.bottom)
	if p.indicator {
		r--
	}
	return max(r, 0)
}

// maxScroll is the largest useful scroll offset of the current screen.
func (m Model) maxScroll() int {
	p, ok := m.scrollParts()
	if !ok {
		return 0
	}
	return max(0, len(p.body)-p.room(m.height))
}

// compose lays the parts out over the terminal's height.
func (m Model) compose(p parts) []string {
	room := p.room(m.height)
	off := min(m.scroll, max(0, len(p.body)-room))
	if p.fromBottom {
		off = max(0, len(p.body)-room-m.scroll)
	}
	win, off := scrolled(p.body, off, room)
	out := append(append([]string{}, p.top...), win...)
	for i := len(win); i < room; i++ {
		out = append(out, "")
	}
	if p.indicator {
		more := ""
		if len(p.body) > room {
			more = m.st.faint.Render(fmt.Sprintf("lines %d-%d of %d", off+1, off+len(win), len(p.body)))
		}
		out = append(out, more)
	}
	return append(out, p.bottom...)
}

// frame makes lines exactly h lines of at most w cells.
func frame(lines []string, w, h int) string {
	var flat []string
	for _, l := range lines {
		flat = append(flat, strings.Split(l, "\n")...)
	}
	if len(flat) > h {
		flat = flat[:h]
	}
	for len(flat) < h {
		flat = append(flat, "")
	}
	for i, l := range flat {
		if ansi.StringWidth(l) > w {
			l = ansi.Truncate(l, w, "…")
		}
		flat[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(flat, "\n")
}

// fit truncates s to w cells (with …) and pads it to w.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-ansi.StringWidth(s))
}

// scrolled returns the window of body that starts at offset (clamped) and
// has at most h lines, with the clamped offset.
func scrolled(body []string, offset, h int) ([]string, int) {
	if h <= 0 {
		return nil, 0
	}
	offset = max(0, min(offset, len(body)-h))
	end := min(len(body), offset+h)
	return body[offset:end], offset
}

// rule is a titled horizontal line: "── title ─────".
func rule(title string, w int) string {
	s := "── " + title + " "
	return s + strings.Repeat("─", max(0, w-ansi.StringWidth(s)))
}

// fmtElapsed is a clock-like duration: 41.2s, 1m02s, 1h03m.
func fmtElapsed(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func shortSHA(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
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

func (m Model) titleLine() string {
	tag := ""
	switch {
	case m.run.Finished:
		tag = "FINISHED"
	case m.stopping:
		tag = "STOPPING"
	case m.aborting:
		tag = "ABORTING"
	case m.paused:
		tag = "PAUSED"
	case m.started:
		tag = "RUNNING"
	}
	title := m.st.title.Render(m.cfg.Title)
	if tag == "" {
		return title
	}
	t := m.st.banner.Render(tag)
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

func (m Model) countsLine() string {
	c := m.run.Counts()
	item := func(label string, n int, s lipgloss.Style) string {
		if n == 0 {
			return label + " 0"
		}
		return s.Render(fmt.Sprintf("%s %d", label, n))
	}
	parts := []string{
		fmt.Sprintf("%d hosts", c.Total),
		item("queued", c.Queued, m.st.queued),
		item("running", c.Running, m.st.running),
		item("ok", c.OK+c.Unchanged, m.st.ok),
		item("failed", c.Failed, m.st.failed),
		item("rolled back", c.RolledBack, m.st.rolled),
	}
	if c.Unchanged > 0 {
		parts[3] += fmt.Sprintf(" (%d unchanged)", c.Unchanged)
	}
	if c.Halted > 0 {
		parts = append(parts, item("halted", c.Halted, m.st.warn))
	}
	if c.Cancelled > 0 {
		parts = append(parts, item("cancelled", c.Cancelled, m.st.warn))
	}
	if c.RollingBack > 0 {
		parts = append(parts, item("rolling back", c.RollingBack, m.st.running))
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
		suffix = "done in " + fmtElapsed(m.run.Elapsed(now))
	default:
		suffix = "elapsed " + fmtElapsed(m.run.Elapsed(now))
		if eta, ok := m.run.ETA(now); ok {
			suffix += " · ETA ~" + fmtElapsed(eta)
		} else {
			suffix += " · ETA -"
		}
	}
	suffix = fmt.Sprintf(" %3.0f%%  %s", p*100, suffix)
	bar := m.bar
	bar.SetWidth(max(10, m.width-ansi.StringWidth(suffix)))
	return bar.ViewAs(p) + suffix
}

func (m Model) header() []string {
	return []string{m.titleLine(), m.countsLine(), m.progressLine(), ""}
}

// ---- running screen ----------------------------------------------------

type columns struct {
	name, batch, step, steps, time, result, gap int
}

func (m Model) columns() columns {
	c := columns{name: 4, batch: 6, step: 9, steps: len(m.run.Steps), time: 5, result: 12, gap: 1}
	for _, h := range m.run.Hosts {
		c.name = max(c.name, ansi.StringWidth(h.Name))
	}
	c.name = min(c.name, 20)
	if m.width >= 100 {
		c.gap, c.time = 2, 6
	}
	return c
}

func (m Model) tableHeader(c columns) string {
	g := strings.Repeat(" ", c.gap)
	lastHead := "STOP BEFORE → AFTER"
	if m.width >= 100 {
		lastHead += " / ERROR"
	}
	return m.st.header.Render("  " + fit("HOST", c.name) + g + fit("BATCH", c.batch) + g + fit("STEP", c.step) + g +
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
	d := plain.StopTime(u.Duration)
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
	case StatusRolledBack:
		return m.st.rolled.Render("files restored")
	case StatusHalted, StatusNotStarted, StatusCancelled:
		if h.Result != nil {
			return m.st.warn.Render(h.Result.Error)
		}
	case StatusRunning:
		if h.Step == fleet.StepRestart && h.Phase == fleet.PhaseStart {
			return m.st.faint.Render("stopping the old process…")
		}
		if h.Step == fleet.StepReboot && h.Phase == fleet.PhaseStart {
			return m.st.faint.Render("rebooting…")
		}
	}
	return ""
}

func (m Model) hostRow(i int, c columns, now time.Time) string {
	h := &m.run.Hosts[i]
	g := strings.Repeat(" ", c.gap)
	el := "-"
	if d := m.run.HostElapsed(h, now); d > 0 {
		el = fmtElapsed(d)
	}
	marker := "  "
	if i == m.selected {
		marker = "▸ "
	}
	st := m.st.status(h.Status)
	row := marker + fit(h.Name, c.name) + g + fit(batchShort(h.Batch), c.batch) + g + fit(stepLabel(h), c.step) + g +
		st.Render(fit(m.stepGlyphs(h), c.steps)) + g + fit(el, c.time) + g + st.Render(fit(resultLabel(h.Status), c.result)) + g
	rest := m.width - ansi.StringWidth(row)
	row += fit(m.lastColumn(h), rest)
	if i == m.selected && !m.st.noColor {
		row = m.st.selected.Render(row)
	}
	return row
}

func (m Model) runView() []string {
	out := m.header()
	bottom := m.bottomLines()
	avail := m.height - len(out) - len(bottom)
	c := m.columns()
	n := len(m.run.Hosts)
	// The table gets what it needs up to all but a detail pane of at least
	// 5 lines (title + 4); the detail pane gets the rest.
	rows := min(n, max(3, avail-1-6))
	rows = max(0, min(rows, avail-1))
	head := m.tableHeader(c)
	offset := max(0, min(m.selected-rows+1, n-rows))
	if n > rows {
		head = fit(head, m.width-12) + m.st.faint.Render(fmt.Sprintf("%d-%d of %d", offset+1, offset+rows, n))
	}
	out = append(out, head)
	now := m.now()
	for i := offset; i < offset+rows && i < n; i++ {
		out = append(out, m.hostRow(i, c, now))
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
	out = append(out, m.statusLine())
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
		msg := "run finished in " + fmtElapsed(m.run.Elapsed(m.now()))
		if _, why, ok := strings.Cut(m.run.Message, "; halted: "); ok {
			msg += " · halted: " + why
		}
		if c := m.run.Counts(); c.Failed > 0 || c.Halted > 0 {
			return m.st.failed.Render("✗ "+msg) + " · q: exit"
		}
		return m.st.ok.Render("✓ "+msg) + " · q: exit"
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
	w := min(m.width-2, 76)
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
		s += " · " + fmtElapsed(d)
	}
	return s
}

func (m Model) detailPane(height int) []string {
	if height <= 0 {
		return nil
	}
	h := m.selectedHost()
	if h == nil {
		return nil
	}
	out := []string{m.st.faint.Render(rule(m.hostTitle(h), m.width))}
	var lines []string
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
		return []string{indent + m.st.failed.Render("plan failed: "+h.PlanError)}
	case len(h.Changes) == 0 && h.Planned && h.Resume != "":
		return []string{indent + m.st.warn.Render("files already new; "+h.Resume+": its remaining steps run again")}
	case len(h.Changes) == 0 && h.Planned:
		return []string{indent + m.st.faint.Render("already at the target: nothing to change")}
	case len(h.Changes) == 0:
		return []string{indent + m.st.faint.Render("no plan")}
	}
	for _, c := range h.Changes {
		var s string
		if c.Existed {
			s = fmt.Sprintf("~ %s  %s → %s", c.Path, shortSHA(c.OldSHA256), shortSHA(c.NewSHA256))
			if c.OldMode != c.NewMode {
				s += "  mode " + c.OldMode + " → " + c.NewMode
			}
			if c.OldOwner != c.NewOwner {
				s += "  owner " + c.OldOwner + " → " + c.NewOwner
			}
		} else {
			s = fmt.Sprintf("+ %s  new %s", c.Path, shortSHA(c.NewSHA256))
			if more := fmt.Sprintf(" %s %s", c.NewMode, c.NewOwner); ansi.StringWidth(indent+s+more) <= m.width {
				s += more
			}
		}
		out = append(out, indent+s)
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

// ---- plan screen -------------------------------------------------------

func (m Model) planParts() parts {
	files, batches, failed := 0, map[int]bool{}, 0
	for _, h := range m.run.Hosts {
		files += len(h.Changes)
		batches[h.Batch] = true
		if h.PlanError != "" {
			failed++
		}
	}
	sum := fmt.Sprintf("PLAN · %d host(s) in %d batch(es) · %d file change(s) · nothing has changed yet", len(m.run.Hosts), len(batches), files)
	if failed > 0 {
		sum += " · " + m.st.failed.Render(fmt.Sprintf("%d host(s) failed to plan", failed))
	}
	out := []string{m.st.title.Render(m.cfg.Title), m.st.bold.Render(sum),
		m.st.faint.Render("each host: " + m.stepsArrow()), ""}
	var body []string
	batch := -2
	for i := range m.run.Hosts {
		h := &m.run.Hosts[i]
		if h.Batch != batch {
			batch = h.Batch
			body = append(body, m.st.header.Render(rule(batchName(batch), m.width)))
		}
		what := fmt.Sprintf("%d file(s) to change", len(h.Changes))
		switch {
		case h.PlanError != "":
			what = m.st.failed.Render("plan failed")
		case len(h.Changes) == 0 && h.Planned && h.Resume != "":
			what = m.st.warn.Render("resumes an unfinished run")
		case len(h.Changes) == 0 && h.Planned:
			what = m.st.faint.Render("unchanged")
		}
		body = append(body, m.st.bold.Render(h.Name)+"  "+what)
		body = append(body, m.changeLines(h, "  ")...)
	}
	prompt := m.st.banner.Render("Start the rollout?") + " enter/y start · q quit · ↑↓ pgup/pgdn scroll · ? help"
	if m.st.noColor {
		prompt = "Start the rollout? enter/y start · q quit · ↑↓ pgup/pgdn scroll · ? help"
	}
	return parts{top: out, body: body, bottom: []string{prompt}, indicator: true}
}

func (m Model) stepsArrow() string {
	var s []string
	for _, st := range m.run.Steps {
		if st == fleet.StepConnect || st == fleet.StepPreflight {
			continue
		}
		s = append(s, string(st))
	}
	return strings.Join(s, " → ")
}

// ---- help screen -------------------------------------------------------

func (m Model) helpParts() parts {
	hm := m.help
	hm.Styles = m.st.help()
	hm.SetWidth(m.width)
	out := []string{m.st.title.Render(m.cfg.Title), "", m.st.bold.Render("KEYS"), ""}
	body := strings.Split(hm.FullHelpView(m.keys.runHelp(m.paused, false).full), "\n")
	body = append(body, "",
		m.st.bold.Render("WHAT THEY DO"),
		"enter/y  on the plan: start the rollout; q there quits, nothing changed",
		"p        pause: hosts not yet started wait, hosts in flight go on",
		"a        abort (asks): no new host starts; in-flight hosts stop at next step",
		"ctrl+c   abort at once; again: stop now (cancels the step); a third: leave",
		"r        roll back the selected host (asks): restore backups, reload, restart",
		"enter    the selected host in full: error, changes, stop timings, whole log",
		"t        stop times before → after the fix, per host and unit, on one scale",
		"q        quit; while the run goes on (asks) it is aborted gracefully first",
		"",
		m.st.faint.Render("NO_COLOR=1: no colors. --plain or -o json: no TUI, plain or JSON lines."),
	)
	return parts{top: out, body: body, bottom: []string{m.st.faint.Render("esc/?/q: back · ↑↓ scroll")}}
}
