package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// styles of every screen. Without color every style is plain: the layout
// and the text (markers, ✓ ✗, ▸) carry the meaning on their own.
type styles struct {
	noColor                        bool
	title, bold, faint, header     lipgloss.Style
	ok, failed, running, queued    lipgloss.Style
	rolled, warn, selected, banner lipgloss.Style
	before, after, dialog          lipgloss.Style
	badgeOK, badgeFailed           lipgloss.Style
	badgeRunning                   lipgloss.Style
	diffAdd, diffDel               lipgloss.Style
}

func newStyles(noColor bool) styles {
	n := lipgloss.NewStyle()
	if noColor {
		return styles{noColor: true, title: n, bold: n, faint: n, header: n, ok: n, failed: n, running: n, queued: n,
			rolled: n, warn: n, selected: n, banner: n, badgeOK: n, badgeFailed: n, badgeRunning: n, before: n, after: n, diffAdd: n, diffDel: n,
			dialog: n.Border(lipgloss.NormalBorder()).Padding(0, 1)}
	}
	green, red, yellow, blue, magenta, gray := lipgloss.Color("#3fb950"), lipgloss.Color("#f85149"), lipgloss.Color("#d29922"),
		lipgloss.Color("#58a6ff"), lipgloss.Color("#bc8cff"), lipgloss.Color("#8b949e")
	return styles{
		title:        n.Bold(true).Foreground(lipgloss.Color("#e6edf3")).Background(lipgloss.Color("#1f6feb")).Padding(0, 1),
		bold:         n.Bold(true),
		faint:        n.Foreground(gray),
		header:       n.Bold(true).Foreground(gray),
		ok:           n.Foreground(green),
		failed:       n.Foreground(red).Bold(true),
		running:      n.Foreground(yellow),
		queued:       n.Foreground(gray),
		rolled:       n.Foreground(magenta),
		warn:         n.Foreground(yellow),
		selected:     n.Background(lipgloss.Color("#30363d")).Bold(true),
		banner:       n.Bold(true).Foreground(lipgloss.Color("#0d1117")).Background(yellow).Padding(0, 1),
		badgeOK:      n.Bold(true).Foreground(lipgloss.Color("#0d1117")).Background(green).Padding(0, 1),
		badgeFailed:  n.Bold(true).Foreground(lipgloss.Color("#ffffff")).Background(red).Padding(0, 1),
		badgeRunning: n.Bold(true).Foreground(lipgloss.Color("#0d1117")).Background(blue).Padding(0, 1),
		before:       n.Foreground(red),
		after:        n.Foreground(green),
		diffAdd:      n.Foreground(green),
		diffDel:      n.Foreground(red),
		dialog:       n.Border(lipgloss.RoundedBorder()).BorderForeground(blue).Padding(0, 1),
	}
}

func (s styles) help() help.Styles {
	if s.noColor {
		n := lipgloss.NewStyle()
		return help.Styles{ShortKey: n, ShortDesc: n, ShortSeparator: n, Ellipsis: n, FullKey: n, FullDesc: n, FullSeparator: n}
	}
	k := lipgloss.NewStyle().Foreground(lipgloss.Color("#c9d1d9")).Bold(true)
	d := lipgloss.NewStyle().Foreground(lipgloss.Color("#8b949e"))
	sep := lipgloss.NewStyle().Foreground(lipgloss.Color("#484f58"))
	return help.Styles{ShortKey: k, ShortDesc: d, ShortSeparator: sep, Ellipsis: sep, FullKey: k, FullDesc: d, FullSeparator: sep}
}

// status renders a host status in its color.
func (s styles) status(st Status) lipgloss.Style {
	switch st {
	case StatusOK, StatusUnchanged:
		return s.ok
	case StatusFailed, StatusRollbackFailed:
		return s.failed
	case StatusRunning, StatusRollingBack:
		return s.running
	case StatusRolledBack:
		return s.rolled
	case StatusHalted, StatusCancelled:
		return s.warn
	}
	return s.queued
}
