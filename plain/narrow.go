package plain

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// The narrow forms of the summary and timings tables, for a terminal too
// narrow for their wide forms (a wrapped table reads as noise: `AC` on one
// line, `TIVE` on the next): the short cells stay in columns and the long
// ones go on indented lines below their row, wrapped at the width.

// indent starts the lines under a row.
const indent = "    "

// writeTable prints a table's wide form: columns two spaces apart, one line
// a row.
func writeTable(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush() // a failed write to the output has nowhere else to be reported
}

// fit prints wide's table when each of its lines fits width (or width is
// 0), else narrow's lines.
func fit(w io.Writer, width int, wide func(io.Writer), narrow func() []string) {
	var b bytes.Buffer
	wide(&b)
	if width <= 0 || widest(b.String()) <= width {
		_, _ = w.Write(b.Bytes()) // a failed write has nowhere else to be reported
		return
	}
	for _, l := range narrow() {
		fmt.Fprintln(w, l)
	}
}

// widest is the longest line of s, in columns.
func widest(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		n = max(n, utf8.RuneCountInString(l))
	}
	return n
}

// narrowHosts is the summary table in width columns: SERVICES stays in the
// row while it fits, ERROR goes below it.
func narrowHosts(hosts [][]string, width int) []string {
	cols := len(summaryHeader) - 1
	if widest(strings.Join(aligned(summaryHeader[:cols], column(hosts, cols)), "\n")) > width {
		cols-- // SERVICES below the row too
	}
	lines := aligned(summaryHeader[:cols], column(hosts, cols))
	out := []string{lines[0]}
	for i, h := range hosts {
		out = append(out, lines[i+1])
		if cols < len(summaryHeader)-1 && h[7] != "-" {
			out = append(out, wrap(indent, "services: "+h[7], width)...)
		}
		if h[8] != "" {
			out = append(out, wrap(indent, "error: "+h[8], width)...)
		}
	}
	return out
}

// narrowTimings is the timings table in width columns: host, unit and its
// stops before and after in the row, then the previous boot's shutdown of
// the unit and, once a host, its reboot, on lines of their own.
func narrowTimings(rows []TimingRow, width int) []string {
	cells := make([][]string, len(rows))
	for i, r := range rows {
		c := r.Cells()
		cells[i] = []string{c[0], Units([]string{c[1]}), c[2], c[3]}
	}
	lines := aligned([]string{"HOST", "UNIT", "STOP BEFORE", "STOP AFTER"}, cells)
	out := []string{lines[0]}
	for i, r := range rows {
		out = append(out, wrapRow(lines[i+1], cells[i][3], width)...)
		if p := r.Previous(); p != "-" {
			out = append(out, wrap(indent, "previous boot's shutdown: "+p, width)...)
		}
		if last := i == len(rows)-1 || rows[i+1].Host != r.Host; last && r.Reboot != nil {
			out = append(out, wrap(indent, "reboot: "+rebootLine(r.Cells()), width)...)
		}
	}
	return out
}

// rebootLine is a host's reboot in words from its timings cells: the
// journal's figures it has, then the controller's.
func rebootLine(c []string) string {
	var parts []string
	for i, name := range []string{"sshd down", "boot ended", "login", "controller: down", "back", "active"} {
		if v := c[4+i]; v != "-" {
			parts = append(parts, name+" "+v)
		}
	}
	return strings.Join(parts, " · ")
}

// column cuts each row to its first n cells.
func column(rows [][]string, n int) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = r[:n]
	}
	return out
}

// aligned is a table's lines, header first, columns two spaces apart and
// no trailing spaces.
func aligned(header []string, rows [][]string) []string {
	var b bytes.Buffer
	writeTable(&b, header, rows)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}

// wrap is first followed by text's words, broken at spaces into lines of
// at most width columns, the ones after the first indented (a word longer
// than the width stays whole).
func wrap(first, text string, width int) []string {
	var out []string
	cur, fresh := first, true
	for _, word := range strings.Fields(text) {
		switch {
		case fresh:
			cur += word
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(word) > width:
			out = append(out, cur)
			cur = indent + word
		default:
			cur += " " + word
		}
		fresh = false
	}
	return append(out, cur)
}

// wrapRow wraps a table's row line at width, its last cell (at the end of
// line) continuing on indented lines.
func wrapRow(line, last string, width int) []string {
	if utf8.RuneCountInString(line) <= width {
		return []string{line}
	}
	return wrap(strings.TrimSuffix(line, last), last, width)
}
