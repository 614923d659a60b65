package tui

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/lipgloss/v2"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/journal"
	"github.com/fleetfix/fleetfix/plain"
)

// minScale is the least full bar of the timings screen.
const minScale = time.Second

// eighths are the partial blocks of a bar, 1/8 to 8/8 of a cell.
var eighths = []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"}

// bar draws d on a scale where full is w cells; a non-zero d gets at least
// a sliver.
func bar(d, full time.Duration, w int) string {
	if full <= 0 || w <= 0 {
		return ""
	}
	units := int(math.Round(float64(d) / float64(full) * float64(w*8)))
	if d > 0 && units == 0 {
		units = 1
	}
	units = min(units, w*8)
	return strings.Repeat("█", units/8) + eighths[units%8]
}

func (m Model) timingsParts() parts {
	out := m.header()
	var scale time.Duration
	for i := range m.run.Hosts {
		for _, r := range m.run.Hosts[i].TimingRows() {
			for _, u := range []*journal.UnitStop{r.Timing.Before, r.Timing.After} {
				if u != nil {
					scale = max(scale, u.Duration)
				}
			}
		}
	}
	if scale > 0 {
		// Stops of a few ms, with no slow one before them, are not full
		// bars: the scale is at least a second.
		scale = max(scale, minScale)
	}
	valueW := 20
	for i := range m.run.Hosts {
		for _, r := range m.run.Hosts[i].TimingRows() {
			t := r.Timing
			// Plain text of one-cell runes: its rune count is its width,
			// and cheaper to get over a fleet.
			valueW = max(valueW, utf8.RuneCountInString(stopValue(t.Before, t.BeforeInFlight)), utf8.RuneCountInString(stopValue(t.After, t.InFlight)))
		}
	}
	title := "STOP TIME AT SHUTDOWN: before → after the fix"
	if scale > 0 {
		title += fmt.Sprintf(" · shared scale, full bar = %s", duration.Stop(scale))
	}
	out = append(out, m.st.bold.Render(title))
	// The hosts as the table lists them: filtered, failed only, by stop;
	// only those on screen are drawn (a fleet of 500 would cost a frame
	// of tens of ms).
	var blocks []block
	for _, i := range m.visible() {
		h := &m.run.Hosts[i]
		rows := h.TimingRows()
		blocks = append(blocks, block{n: timingBlockLen(rows), lines: func() []string { return m.timingBlock(h, rows, scale, valueW) }})
	}
	return parts{top: out, blocks: blocks, bottom: m.bottomLines(), indicator: true}
}

// timingBlock is a host's part of the timings screen.
func (m Model) timingBlock(h *Host, rows []plain.TimingRow, scale time.Duration, valueW int) []string {
	if len(rows) == 0 {
		return []string{m.st.bold.Render(h.Name) + "  " + m.st.faint.Render(m.noTimingsWhy(h))}
	}
	var out []string
	for _, r := range rows {
		out = append(out, m.timingLines(r, scale, valueW)...)
	}
	if r := rows[0].Reboot; r != nil {
		out = append(out, m.rebootLines(r, "  ")...)
	}
	return out
}

// timingBlockLen is how many lines timingBlock draws, known without
// drawing them.
func timingBlockLen(rows []plain.TimingRow) int {
	if len(rows) == 0 {
		return 1
	}
	n := 0
	for _, r := range rows {
		t := r.Timing
		n += 3 // the unit, before, after
		if t.After != nil && t.Idle() {
			n++
		}
		if t.Previous != nil || t.PreviousNote != "" {
			n++
		}
	}
	if r := rows[0].Reboot; r != nil {
		n++ // the controller's figures
		if r.SSHDStopped > 0 || r.Shutdown > 0 || r.Noticed > 0 {
			n++
		}
	}
	return n
}

// timingLines are a row of the timings table as the timings screen shows
// it: the unit, then its stop before and after as bars on scale, their
// values in valueW cells, and the previous boot's figure when there is one.
func (m Model) timingLines(r plain.TimingRow, scale time.Duration, valueW int) []string {
	labelW := 9
	barW := max(10, m.width-labelW-valueW-1)
	t := r.Timing
	head := m.st.bold.Render(r.Host) + "  " + t.Unit
	if t.Before != nil && t.After != nil && t.After.Duration > 0 {
		head += m.st.faint.Render(fmt.Sprintf("  %s → %s, %s faster", duration.Stop(t.Before.Duration), duration.Stop(t.After.Duration), factor(t.Before.Duration, t.After.Duration)))
	}
	lines := []string{head}
	for _, side := range []struct {
		label    string
		u        *journal.UnitStop
		note     string
		inFlight *int
		st       lipgloss.Style
	}{{"before", t.Before, t.BeforeNote, t.BeforeInFlight, m.st.before}, {"after", t.After, t.AfterNote, t.InFlight, m.st.after}} {
		label := fit("  "+side.label, labelW)
		if side.u == nil {
			lines = append(lines, label+m.st.faint.Render("no timings: "+side.note))
			continue
		}
		st := side.st
		if side.u.Killed {
			st = m.st.before
		}
		lines = append(lines, label+st.Render(fit(bar(side.u.Duration, scale, barW), barW))+" "+st.Render(stopValue(side.u, side.inFlight)))
		if side.label == "after" && t.Idle() {
			lines = append(lines, fit("", labelW)+m.st.faint.Render(fleet.IdleNote+": no connection in flight when the reboot began"))
		}
	}
	if t.Previous != nil || t.PreviousNote != "" {
		lines = append(lines, fit("  prev.", labelW)+m.st.faint.Render(r.Previous()))
	}
	return lines
}

// stopValue is a stop's figure beside its bar: "1.02s ✗ SIGKILLed by
// fleetfix, 2 in flight"; "" for none.
func stopValue(u *journal.UnitStop, inFlight *int) string {
	if u == nil {
		return ""
	}
	mark := " "
	switch {
	case u.Killed:
		mark = " ✗ "
	case u.Result == "clean" && !u.Unfinished:
		mark = " ✓ "
	}
	val := duration.Stop(u.Duration) + mark + fleet.StopWords(*u)
	if inFlight != nil {
		val += fmt.Sprintf(", %d in flight", *inFlight)
	}
	return val
}

func factor(before, after time.Duration) string {
	f := float64(before) / float64(after)
	if f >= 10 {
		return fmt.Sprintf("%.0f×", f)
	}
	return fmt.Sprintf("%.1f×", f)
}

func (m Model) noTimingsWhy(h *Host) string {
	switch h.Status {
	case StatusQueued:
		return "queued"
	case StatusRunning:
		return "no timings yet: at " + string(h.Step)
	case StatusUnchanged:
		return "unchanged: not rebooted"
	case StatusFailed:
		return "failed at " + string(h.FailedStep) + ": no timings"
	case StatusHalted, StatusNotStarted, StatusCancelled:
		return string(h.Status) + ": no timings"
	}
	if h.Result != nil && h.Result.Reboot == nil {
		return "not rebooted: no timings"
	}
	return "no timings"
}

// rebootLines are a host's reboot figures: the host's, from its journal
// (sshd stopped and the old boot's end after the reboot request; fleetfix's
// login after the new boot's sshd started), when it had them, then the
// controller's, from its reboot command.
func (m Model) rebootLines(r *fleet.RebootTiming, indent string) []string {
	var journal []string
	if r.SSHDStopped > 0 {
		// "sshd down" as plain's SSHD DOWN column: the line fits 80 columns at its widest.
		journal = append(journal, "sshd down "+duration.Format(r.SSHDStopped))
	}
	if r.Shutdown > 0 {
		journal = append(journal, "boot ended "+duration.Format(r.Shutdown))
	}
	var lines []string
	if len(journal) > 0 {
		lines = append(lines, strings.Join(journal, ", ")+" after the request")
	}
	if r.Noticed > 0 {
		lines = append(lines, "login +"+duration.Format(r.Noticed))
	}
	var out []string
	if len(lines) > 0 {
		out = append(out, m.st.faint.Render(indent+"journal: "+strings.Join(lines, " · ")))
	}
	controller := fmt.Sprintf("%scontroller: sshd gone %s · back (new boot id) %s · units active %s", indent, duration.Format(r.Down), duration.Format(r.Back), duration.Format(r.Active))
	return append(out, m.st.faint.Render(controller))
}
