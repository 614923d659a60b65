package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// listView is how the host table of a big fleet is narrowed and ordered:
// a name filter, failed hosts only, by stop time, and following the host
// that started last.
type listView struct {
	filter     string
	typing     bool // the operator is typing the filter
	failedOnly bool
	byStop     bool
	follow     bool
}

// shows reports whether the list shows h.
func (l listView) shows(h *Host) bool {
	if l.failedOnly {
		switch h.Status {
		case StatusFailed, StatusRollbackFailed, StatusCancelled:
		default:
			return false
		}
	}
	return l.filter == "" || strings.Contains(strings.ToLower(h.Name), strings.ToLower(l.filter))
}

// longestStop is the host's longest stop after the fix (before it, when
// there is no after), for the sort by stop time; -1 without timings.
func longestStop(h *Host) time.Duration {
	d := time.Duration(-1)
	for _, t := range h.Timings() {
		switch {
		case t.After != nil:
			d = max(d, t.After.Duration)
		case t.Before != nil:
			d = max(d, t.Before.Duration)
		}
	}
	return d
}

// visible are the indexes in m.run.Hosts of the hosts the table shows, in
// its order.
func (m Model) visible() []int {
	out := make([]int, 0, len(m.run.Hosts))
	for i := range m.run.Hosts {
		if m.list.shows(&m.run.Hosts[i]) {
			out = append(out, i)
		}
	}
	if m.list.byStop {
		stop := make([]time.Duration, len(m.run.Hosts))
		for _, i := range out {
			stop[i] = longestStop(&m.run.Hosts[i])
		}
		slices.SortStableFunc(out, func(a, b int) int {
			switch {
			case stop[a] > stop[b]:
				return -1
			case stop[a] < stop[b]:
				return 1
			}
			return 0
		})
	}
	return out
}

// position is the selected host's place in the visible list; -1 when it is
// not in it.
func (m Model) position(vis []int) int {
	return slices.Index(vis, m.selected)
}

// settle keeps the selection on a visible host: the first, when the one
// selected left the list.
func (m *Model) settle() {
	vis := m.visible()
	if len(vis) > 0 && m.position(vis) < 0 {
		m.selected = vis[0]
	}
}

// move selects the host above or below in the visible list.
func (m *Model) move(k tea.KeyPressMsg) {
	vis := m.visible()
	p := m.position(vis)
	if p < 0 {
		m.settle()
		return
	}
	if key.Matches(k, m.keys.Up) && p > 0 {
		m.selected = vis[p-1]
	}
	if key.Matches(k, m.keys.Down) && p < len(vis)-1 {
		m.selected = vis[p+1]
	}
	if m.list.follow {
		m.list.follow = false
		m.flash = "follow off: the selection stays (w: follow again)"
	}
}

// followHost selects the host that just started a step, when following.
func (m *Model) followHost(host string) {
	if !m.list.follow {
		return
	}
	if i, ok := m.run.index[host]; ok && m.list.shows(&m.run.Hosts[i]) {
		m.selected = i
	}
}

// onListKey handles the list's keys; false when k is not one of them.
func (m *Model) onListKey(k tea.KeyPressMsg) bool {
	switch {
	case key.Matches(k, m.keys.Filter):
		m.list.typing = true
	case key.Matches(k, m.keys.FailedOnly):
		m.list.failedOnly = !m.list.failedOnly
	case key.Matches(k, m.keys.SortStop):
		m.list.byStop = !m.list.byStop
		if vis := m.visible(); len(vis) > 0 {
			m.selected = vis[0] // a new order is read from its top
		}
	case key.Matches(k, m.keys.Follow):
		m.list.follow = !m.list.follow
		if m.list.follow {
			m.followActive()
		}
	default:
		return false
	}
	m.settle()
	return true
}

// followActive selects the running host that started last.
func (m *Model) followActive() {
	var last time.Time
	for i := range m.run.Hosts {
		h := &m.run.Hosts[i]
		if h.Status == StatusRunning && !h.Started.Before(last) && m.list.shows(h) {
			m.selected, last = i, h.Started
		}
	}
}

// onFilterKey edits the filter while the operator types it: enter keeps
// it, esc clears it.
func (m Model) onFilterKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case k.Code == tea.KeyEnter:
		m.list.typing = false
	case k.Code == tea.KeyEscape:
		m.list.typing, m.list.filter = false, ""
	case k.Code == tea.KeyBackspace:
		if r := []rune(m.list.filter); len(r) > 0 {
			m.list.filter = string(r[:len(r)-1])
		}
	case k.Text != "":
		m.list.filter += k.Text
	}
	m.settle()
	return m, nil
}

// listState is the table header's word on the list: its place, and what
// narrows or orders it: "12–35 of 480", "3–5 of 7 (480 hosts) · /web ·
// failed only · by stop time · following".
func (m Model) listState(vis []int, offset, rows int) string {
	var parts []string
	n, all := len(vis), len(m.run.Hosts)
	switch {
	case n == 0:
		parts = append(parts, "no host matches")
	case rows < n || n < all:
		s := fmt.Sprintf("%d–%d of %d", offset+1, min(offset+rows, n), n)
		if n < all {
			s += fmt.Sprintf(" (%d hosts)", all)
		}
		parts = append(parts, s)
	}
	if m.list.filter != "" || m.list.typing {
		f := "/" + m.list.filter
		if m.list.typing {
			f += "▏"
		}
		parts = append(parts, f)
	}
	if m.list.failedOnly {
		parts = append(parts, "failed only")
	}
	if m.list.byStop {
		parts = append(parts, "by stop time")
	}
	if m.list.follow {
		parts = append(parts, "following")
	}
	return strings.Join(parts, " · ")
}
