// Package plain is fleetfix's output for people: one line per event, the
// summary table, the timings table and the scan table, and the duration
// formats every front end uses (the TUI too). The timings table is built
// once here, as rows of a summary's hosts, and rendered by each front end.
package plain

import (
	"time"

	"github.com/fleetfix/fleetfix/internal/duration"
)

// Duration is a step's or a run's duration, the one format of every front
// end: 34ms, 20.31s, 1m02s, 1h03m.
func Duration(d time.Duration) string { return duration.Format(d) }

// StopTime is a unit's stop time, to the millisecond below a second: 90.12s,
// 0.018s (a fixed stop is short, and its digits are the point).
func StopTime(d time.Duration) string { return duration.Stop(d) }
