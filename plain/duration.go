// Package plain is fleetfix's output for people: one line per event, the
// summary table, the timings table and the scan table, and the duration
// formats every front end uses (the TUI too). The timings table is built
// once here, as rows of a summary's hosts, and rendered by each front end.
package plain

import (
	"fmt"
	"time"
)

// Duration is a step's or a run's duration, the one format of every front
// end: 34ms, 20.31s, 1m02s, 1h03m.
func Duration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute-5*time.Millisecond:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d >= time.Second-500*time.Microsecond:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%dms", d.Round(time.Millisecond).Milliseconds())
}

// StopTime is a unit's stop time, to the millisecond below a second: 90.12s,
// 0.018s (a fixed stop is short, and its digits are the point).
func StopTime(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.3fs", d.Seconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
