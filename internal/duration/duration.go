// Package duration is the one way fleetfix writes a duration for people,
// used by the front ends (plain, tui, report through plain) and by fleet's
// own words of a policy.
package duration

import (
	"fmt"
	"time"
)

// Format is a step's or a run's duration: 34ms, 20.31s, 1m02s, 1h03m.
func Format(d time.Duration) string {
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

// Stop is a unit's stop time, to the millisecond below a second: 90.12s,
// 0.018s (a fixed stop is short, and its digits are the point).
func Stop(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.3fs", d.Seconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
