// Package plain is fleetfix's output for people: one line per event, the
// summary table, the timings table and the scan table, and the duration
// formats every front end uses (the TUI too). The timings table is built
// once here, as rows of a summary's hosts, and rendered by each front end.
package plain

import (
	"fmt"
	"time"
)

// Duration is a step's or a run's duration: 20.31s, 34ms.
func Duration(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// StopTime is a unit's stop time, to the millisecond below a second: 90.12s,
// 0.018s (a fixed stop is short, and its digits are the point).
func StopTime(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.3fs", d.Seconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
