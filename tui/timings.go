package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/journal"
	"github.com/fleetfix/fleetfix/plain"
)

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
	title := "STOP TIME AT SHUTDOWN: before → after the fix"
	if scale > 0 {
		title += fmt.Sprintf(" · shared scale, full bar = %s", plain.StopTime(scale))
	}
	out = append(out, m.st.bold.Render(title))
	var body []string
	for i := range m.run.Hosts {
		h := &m.run.Hosts[i]
		rows := h.TimingRows()
		if len(rows) == 0 {
			body = append(body, m.st.bold.Render(h.Name)+"  "+m.st.faint.Render(m.noTimingsWhy(h)))
			continue
		}
		for _, r := range rows {
			body = append(body, m.timingLines(r, scale)...)
		}
		if r := rows[0].Reboot; r != nil {
			body = append(body, m.rebootLine(r, "  "))
		}
	}
	return parts{top: out, body: body, bottom: m.bottomLines()}
}

// timingLines are a row of the timings table as the timings screen shows
// it: the unit, then its stop before and after as bars on scale.
func (m Model) timingLines(r plain.TimingRow, scale time.Duration) []string {
	labelW, valueW := 9, 20
	barW := max(10, m.width-labelW-valueW-1)
	t := r.Timing
	head := m.st.bold.Render(r.Host) + "  " + t.Unit
	if t.Before != nil && t.After != nil && t.After.Duration > 0 {
		head += m.st.faint.Render(fmt.Sprintf("  %s → %s, %s faster", plain.StopTime(t.Before.Duration), plain.StopTime(t.After.Duration), factor(t.Before.Duration, t.After.Duration)))
	}
	lines := []string{head}
	for _, side := range []struct {
		label string
		u     *journal.UnitStop
		note  string
		st    lipgloss.Style
	}{{"before", t.Before, t.BeforeNote, m.st.before}, {"after", t.After, t.AfterNote, m.st.after}} {
		label := fit("  "+side.label, labelW)
		if side.u == nil {
			lines = append(lines, label+m.st.faint.Render("no timings: "+side.note))
			continue
		}
		st := side.st
		if side.u.Killed {
			st = m.st.before
		}
		val := plain.StopTime(side.u.Duration) + " ✓ clean"
		switch {
		case side.u.Killed:
			val = plain.StopTime(side.u.Duration) + " ✗ SIGKILLed"
		case side.u.Result != "clean":
			val = plain.StopTime(side.u.Duration) + " " + side.u.Result
		}
		lines = append(lines, label+st.Render(fit(bar(side.u.Duration, scale, barW), barW))+" "+st.Render(val))
		if side.label == "after" && t.Idle() {
			lines = append(lines, fit("", labelW)+m.st.faint.Render(fleet.IdleNote+": no connection in flight when the reboot began"))
		}
	}
	return lines
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
	case StatusHalted, StatusNotStarted:
		return string(h.Status) + ": no timings"
	}
	if h.Result != nil && h.Result.Reboot == nil {
		return "not rebooted: no timings"
	}
	return "no timings"
}
