package plain

import (
	"io"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/journal"
)

// timingsHeader heads the timings table's columns, tab-separated.
// The reboot's first figures are the host's, from its journal: sshd
// stopped after the reboot was asked, the old boot's end, and fleetfix's
// login after the new boot's sshd started; then the controller's, from
// its reboot command.
const timingsHeader = "HOST\tUNIT\tSTOP BEFORE\tSTOP AFTER\tSSHD DOWN\tBOOT ENDED\tLOGIN\tCONTROLLER: DOWN\tBACK\tACTIVE\tPREVIOUS BOOT'S SHUTDOWN"

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

// Before is the stop before the fix in words, with the connections it had
// to end: "20.02s, SIGKILLed, 2 in flight".
func (r TimingRow) Before() string {
	return r.stop(r.Timing.Before, r.Timing.BeforeNote, r.Timing.BeforeInFlight)
}

// After is the stop after the fix in words: "0.061s, clean, 2 in flight",
// marked "idle: proves nothing" when the unit had no connection in flight.
func (r TimingRow) After() string {
	s := r.stop(r.Timing.After, r.Timing.AfterNote, r.Timing.InFlight)
	if r.Timing.Idle() {
		s += ", " + fleet.IdleNote
	}
	return s
}

// Previous is the previous boot's shutdown in words, labelled with its
// boot: "90.12s, SIGKILLed (boot 5f1c2d3e)"; "-" when there is none.
func (r TimingRow) Previous() string {
	if r.Timing.Unit == "" {
		return "-"
	}
	return fleet.DescribePrevious(r.Timing)
}

func (r TimingRow) stop(u *journal.UnitStop, note string, inFlight *int) string {
	if r.Timing.Unit == "" {
		return "-"
	}
	return fleet.DescribeInFlight(u, note, inFlight)
}

// Cells are the row's cells in the table's columns.
func (r TimingRow) Cells() []string {
	unit := r.Timing.Unit
	if unit == "" {
		unit = "-"
	}
	cells := []string{r.Host, unit, r.Before(), r.After(), "-", "-", "-", "-", "-", "-", r.Previous()}
	if b := r.Reboot; b != nil {
		cells[4], cells[5], cells[6] = measured(b.SSHDStopped), measured(b.Shutdown), measured(b.Noticed)
		cells[7], cells[8], cells[9] = duration.Format(b.Down), duration.Format(b.Back), duration.Format(b.Active)
	}
	return cells
}

// measured is a figure from the host's journal, "-" when it had none.
func measured(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return duration.Format(d)
}

// writeTimings prints the timings table's wide form.
func writeTimings(w io.Writer, rows []TimingRow) {
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cells[i] = r.Cells()
	}
	writeTable(w, strings.Split(timingsHeader, "\t"), cells)
}
