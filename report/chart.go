package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// series is one kind of bar in a stop-time chart (before, after).
type series struct {
	Name  string
	Class string // the CSS class that colours its bars
}

// chartRow is one host's unit in a stop-time chart: a bar per series.
type chartRow struct {
	Label string
	Bars  []bar
}

// bar is one stop; a missing one (Set false) is drawn as its note.
type bar struct {
	MS     float64
	Set    bool
	Killed bool
	Note   string
}

// Chart geometry, in SVG user units (the SVG scales to its container).
const (
	chartWidth = 960
	labelWidth = 250 // the row labels' column
	valueRoom  = 150 // right of the plot: the longest bar's value and mark
	barHeight  = 14
	barGap     = 3
	rowGap     = 14
	axisHeight = 34
)

// stopChart draws rows as horizontal bars on a log scale of seconds, one
// decade a grid line, so that a 20 s SIGKILLed stop and a 0.01 s clean one
// both read on one chart; SIGKILLed stops are marked.
func stopChart(rows []chartRow, ser []series) string {
	lo, hi := logDomain(rows)
	x0, x1 := float64(labelWidth), float64(chartWidth-valueRoom)
	x := func(v float64) float64 {
		v = math.Max(v, lo)
		return x0 + (math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*(x1-x0)
	}
	rowH := len(ser)*(barHeight+barGap) + rowGap
	height := axisHeight + len(rows)*rowH + 28
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`, chartWidth, height)
	fmt.Fprintf(&b, `<title>Stop time per host and unit, log scale</title>`)
	for d := lo; d <= hi*1.0001; d *= 10 {
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>`, x(d), x(d), axisHeight-6, height-28)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(d), axisHeight-12, decadeLabel(d))
	}
	for i, r := range rows {
		y := axisHeight + i*rowH
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d" text-anchor="end">%s</text>`, labelWidth-10, y+barHeight+2, esc(r.Label))
		for j, s := range ser {
			if j < len(r.Bars) {
				writeBar(&b, r.Bars[j], s, x, x0, y+j*(barHeight+barGap))
			}
		}
	}
	// The legend, below the plot.
	lx := labelWidth
	for _, s := range ser {
		fmt.Fprintf(&b, `<rect class="%s" x="%d" y="%d" width="12" height="12"/><text class="legend" x="%d" y="%d">%s</text>`,
			s.Class, lx, height-20, lx+18, height-10, esc(s.Name))
		lx += 30 + 9*len(s.Name)
	}
	fmt.Fprintf(&b, `<text class="legend" x="%d" y="%d"><tspan class="kill">✕ SIGKILL</tspan> killed, not stopped · log scale</text>`, lx, height-10)
	b.WriteString(`</svg>`)
	return b.String()
}

func writeBar(b *strings.Builder, bv bar, s series, x func(float64) float64, x0 float64, y int) {
	if !bv.Set {
		note := "none"
		if bv.Note != "" {
			note = "none: " + bv.Note
		}
		fmt.Fprintf(b, `<text class="note" x="%.1f" y="%d">%s (%s)</text>`, x0+4, y+barHeight-3, esc(note), esc(strings.ToLower(s.Name)))
		return
	}
	w := math.Max(x(bv.MS)-x0, 2)
	tip := fmt.Sprintf("%s: %s", s.Name, stopText(bv.MS))
	if bv.Killed {
		tip += ", SIGKILLed"
	}
	fmt.Fprintf(b, `<rect class="%s" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s</title></rect>`, s.Class, x0, y, w, barHeight, esc(tip))
	label := esc(stopText(bv.MS))
	if bv.Killed {
		label += ` <tspan class="kill">✕ SIGKILL</tspan>`
	}
	fmt.Fprintf(b, `<text class="value" x="%.1f" y="%d">%s</text>`, x0+w+5, y+barHeight-3, label)
}

// logDomain is the chart's range in milliseconds, whole decades from at
// most 10 ms to at least 10 s, so that charts of different runs compare.
func logDomain(rows []chartRow) (lo, hi float64) {
	lo, hi = 10, 10000
	for _, r := range rows {
		for _, b := range r.Bars {
			if b.Set && b.MS > 0 {
				lo, hi = math.Min(lo, b.MS), math.Max(hi, b.MS)
			}
		}
	}
	lo = math.Max(math.Pow(10, math.Floor(math.Log10(lo))), 0.1)
	return lo, math.Pow(10, math.Ceil(math.Log10(hi)))
}

// decadeLabel names a decade of milliseconds in seconds: 0.01 s, 10 s.
func decadeLabel(msv float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", msv/1000), "0"), ".") + " s"
}

// timelineRow is one host's reboot, in milliseconds from the reboot asked
// for: the controller's down, back and active, and the host journal's
// sshd stopped and last record.
type timelineRow struct {
	Host                  string
	Down, Back, Active    float64
	SSHDStopped, Shutdown float64
}

// timeline draws each host's reboot on one linear scale: going down, down,
// units starting, with the host's own records as ticks.
func timeline(rows []timelineRow) string {
	end := 1000.0
	for _, r := range rows {
		end = math.Max(end, math.Max(r.Active, r.Back))
	}
	step := niceStep(end / 6)
	end = math.Ceil(end/step) * step
	x0, x1 := float64(labelWidth), float64(chartWidth-40)
	x := func(v float64) float64 { return x0 + v/end*(x1-x0) }
	rowH := barHeight + rowGap
	height := axisHeight + len(rows)*rowH + 28
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart timeline" role="img" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`, chartWidth, height)
	b.WriteString(`<title>Reboot timeline per host, from the reboot issued</title>`)
	for t := 0.0; t <= end+step/2; t += step {
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>`, x(t), x(t), axisHeight-6, height-28)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(t), axisHeight-12, strconv.FormatFloat(t/1000, 'g', 4, 64)+" s")
	}
	for i, r := range rows {
		y := axisHeight + i*rowH
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d" text-anchor="end">%s</text>`, labelWidth-10, y+barHeight-2, esc(r.Host))
		segment := func(from, to float64, class, what string) {
			if to > from {
				fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s: %s → %s</title></rect>`,
					class, x(from), y, math.Max(x(to)-x(from), 1), barHeight, what, esc(stopText(from)), esc(stopText(to)))
			}
		}
		segment(0, r.Down, "t-going", "going down")
		segment(r.Down, r.Back, "t-down", "down")
		segment(r.Back, r.Active, "t-up", "units starting")
		for _, m := range []struct {
			at   float64
			what string
		}{{r.SSHDStopped, "sshd stopped (host journal)"}, {r.Shutdown, "last record of the old boot (host journal)"}} {
			if m.at > 0 {
				fmt.Fprintf(&b, `<line class="mark" x1="%.1f" x2="%.1f" y1="%d" y2="%d"><title>%s: %s</title></line>`,
					x(m.at), x(m.at), y-3, y+barHeight+3, m.what, esc(stopText(m.at)))
			}
		}
	}
	lx := labelWidth
	for _, l := range []struct{ class, name string }{{"t-going", "going down"}, {"t-down", "down"}, {"t-up", "units starting"}} {
		fmt.Fprintf(&b, `<rect class="%s" x="%d" y="%d" width="12" height="12"/><text class="legend" x="%d" y="%d">%s</text>`,
			l.class, lx, height-20, lx+18, height-10, l.name)
		lx += 40 + 8*len(l.name)
	}
	fmt.Fprintf(&b, `<line class="mark" x1="%d" x2="%d" y1="%d" y2="%d"/><text class="legend" x="%d" y="%d">host journal: sshd stopped, old boot's last record</text>`,
		lx, lx, height-22, height-6, lx+8, height-10)
	b.WriteString(`</svg>`)
	return b.String()
}

// niceStep rounds a raw axis step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string { return html.EscapeString(s) }
