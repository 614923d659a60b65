package plain

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/journal"
)

// timingsHeader heads the timings table's columns, tab-separated.
const timingsHeader = "HOST\tUNIT\tSTOP BEFORE\tSTOP AFTER\tREBOOT: DOWN\tBACK\tACTIVE"

// TimingRow is one line of the timings table: a unit's stop before and
// after the fix on a host, with the host's reboot. A rebooted host without
// timings has one row with no unit.
type TimingRow struct {
	Host   string
	Timing fleet.UnitTiming // zero (no unit) on a rebooted host without timings
	Reboot *fleet.RebootTiming
}

// Timings is the timings table of hosts: the rows of each host that was
// rebooted or has timings, in order.
func Timings(hosts []fleet.HostResult) []TimingRow {
	var rows []TimingRow
	for _, h := range hosts {
		rows = append(rows, HostTimings(h)...)
	}
	return rows
}

// HostTimings is the timings table's rows of one host: one per unit, or one
// without a unit when the host was rebooted but has no timings.
func HostTimings(h fleet.HostResult) []TimingRow {
	if len(h.Timings) == 0 {
		if h.Reboot == nil {
			return nil
		}
		return []TimingRow{{Host: h.Host, Reboot: h.Reboot}}
	}
	rows := make([]TimingRow, 0, len(h.Timings))
	for _, t := range h.Timings {
		rows = append(rows, TimingRow{Host: h.Host, Timing: t, Reboot: h.Reboot})
	}
	return rows
}

// Before is the stop before the fix in words: "90.12s, SIGKILLed".
func (r TimingRow) Before() string { return r.stop(r.Timing.Before, r.Timing.BeforeNote) }

// After is the stop after the fix in words: "0.061s, clean", marked
// "idle: proves nothing" when the unit had no connection in flight.
func (r TimingRow) After() string {
	s := r.stop(r.Timing.After, r.Timing.AfterNote)
	if r.Timing.Idle() {
		s += ", " + fleet.IdleNote
	}
	return s
}

func (r TimingRow) stop(u *journal.UnitStop, note string) string {
	if r.Timing.Unit == "" {
		return "-"
	}
	return fleet.DescribeStop(u, note)
}

// Cells are the row's cells in the table's columns.
func (r TimingRow) Cells() []string {
	unit := r.Timing.Unit
	if unit == "" {
		unit = "-"
	}
	down, back, active := "-", "-", "-"
	if b := r.Reboot; b != nil {
		down, back, active = Duration(b.Down), Duration(b.Back), Duration(b.Active)
	}
	return []string{r.Host, unit, r.Before(), r.After(), down, back, active}
}

// writeTimings prints the timings table, columns two spaces apart.
func writeTimings(w io.Writer, rows []TimingRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, timingsHeader)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r.Cells(), "\t"))
	}
	_ = tw.Flush() // a failed write to the output has nowhere else to be reported
}
