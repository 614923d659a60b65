package plain

import (
	"fmt"
	"slices"
	"time"

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/journal"
)

// FleetLine is the fleet's stop times on one line: how many stops ended
// SIGKILLed before and after the fix, and the median stop before → after:
// "SIGKILLed 6 → 0 · median 4.13s → 0.011s"; "" without a timing.
func FleetLine(rows []TimingRow) string {
	var before, after []time.Duration
	killedBefore, killedAfter := 0, 0
	add := func(u *journal.UnitStop, ds *[]time.Duration, killed *int) {
		if u == nil {
			return
		}
		*ds = append(*ds, u.Duration)
		if u.Killed {
			*killed++
		}
	}
	for _, r := range rows {
		add(r.Timing.Before, &before, &killedBefore)
		add(r.Timing.After, &after, &killedAfter)
	}
	if len(before)+len(after) == 0 {
		return ""
	}
	return fmt.Sprintf("SIGKILLed %d → %d · median %s → %s", killedBefore, killedAfter, median(before), median(after))
}

// median is the middle stop time, "-" of none.
func median(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	m := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		m = (ds[len(ds)/2-1] + m) / 2
	}
	return duration.Stop(m)
}
