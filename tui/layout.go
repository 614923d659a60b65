package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// parts of a screen with a scrolled middle.
type parts struct {
	top, body, bottom []string
	// blocks, when set, are the body drawn on demand: only those in the
	// window are.
	blocks []block
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

// block is a run of body lines drawn only when on screen.
type block struct {
	n     int // lines() has exactly n lines
	lines func() []string
}

// bodyLen is the body's length in lines.
func (p parts) bodyLen() int {
	if p.blocks == nil {
		return len(p.body)
	}
	n := 0
	for _, b := range p.blocks {
		n += b.n
	}
	return n
}

// window is the body's lines from offset (clamped), at most h of them,
// with the clamped offset; of the blocks, only those in it are drawn.
func (p parts) window(offset, h int) ([]string, int) {
	if p.blocks == nil {
		return scrolled(p.body, offset, h)
	}
	if h <= 0 {
		return nil, 0
	}
	offset = max(0, min(offset, p.bodyLen()-h))
	var out []string
	pos := 0
	for _, b := range p.blocks {
		if pos+b.n > offset && pos < offset+h {
			ls := b.lines()
			from, to := max(0, offset-pos), min(b.n, offset+h-pos)
			out = append(out, ls[from:to]...)
		}
		pos += b.n
	}
	return out, offset
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
	return max(0, p.bodyLen()-p.room(m.height))
}

// compose lays the parts out over the terminal's height.
func (m Model) compose(p parts) []string {
	room := p.room(m.height)
	total := p.bodyLen()
	off := min(m.scroll, max(0, total-room))
	if p.fromBottom {
		off = max(0, total-room-m.scroll)
	}
	win, off := p.window(off, room)
	out := append(append([]string{}, p.top...), win...)
	for i := len(win); i < room; i++ {
		out = append(out, "")
	}
	if p.indicator {
		more := ""
		if total > room {
			more = m.st.faint.Render(fmt.Sprintf("lines %d–%d of %d", off+1, off+len(win), total))
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
