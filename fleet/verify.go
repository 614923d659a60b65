package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/inventory"
)

// The proof as a gate: after the reboot, each unit's stop as the journal
// recorded it must pass its service's verify policy, or the host fails at
// the verify step (and a failed canary halts the run, as any failure does).

// verify is the verify step: the journal step's timings against each
// service's policy. It reads nothing from the host: the journal step did.
func (hr *hostRun) verify(context.Context) (string, error) {
	if err := verifyStops(hr.give.services, hr.res.Timings); err != nil {
		return "", err
	}
	var passed []string
	for _, ut := range hr.res.Timings {
		p := fmt.Sprintf("%s %s", ut.Unit, DescribeStop(ut.After, ut.AfterNote))
		if ut.Idle() {
			// It passes min_in_flight 0, but says nothing of the fix.
			p += ", " + IdleNote
		}
		passed = append(passed, p)
	}
	return "every stop passes: " + strings.Join(passed, "; "), nil
}

// verifyStops is the gate's decision: nil when every service's stop at the
// reboot passes its policy, else every failure with its figure, one unit
// after another.
func verifyStops(services []inventory.Service, ts []UnitTiming) error {
	byUnit := make(map[string]UnitTiming, len(ts))
	for _, ut := range ts {
		byUnit[ut.Unit] = ut
	}
	var fails []string
	for _, svc := range services {
		ut, ok := byUnit[svc.Unit]
		if !ok {
			ut = UnitTiming{Unit: svc.Unit, AfterNote: "no timings for the unit"}
		}
		for _, why := range stopFailures(svc.Verify, ut) {
			fails = append(fails, svc.Unit+": "+why)
		}
	}
	if len(fails) > 0 {
		return errors.New(strings.Join(fails, "; "))
	}
	return nil
}

// stopFailures says each way ut's stop after the fix fails v; none when it
// passes. A stop the journal does not show, or shows cut off, proves
// nothing, so it fails whatever v allows.
func stopFailures(v inventory.Verify, ut UnitTiming) []string {
	u := ut.After
	if u == nil {
		return []string{"no stop at the reboot to verify: " + ut.AfterNote}
	}
	stop := duration.Stop(u.Duration)
	if u.Unfinished {
		return []string{fmt.Sprintf("stop ≥%s at the reboot, unfinished (the journal ends mid-stop): nothing to verify", stop)}
	}
	var out []string
	if u.Killed && !v.AllowSIGKILL {
		out = append(out, fmt.Sprintf("stop %s, SIGKILLed at the reboot: the fix did not take", stop))
	}
	if v.MaxStop > 0 && u.Duration > v.MaxStop {
		out = append(out, fmt.Sprintf("stop %s at the reboot, over max_stop %s", stop, duration.Stop(v.MaxStop)))
	}
	if v.MinInFlight > 0 {
		switch {
		case ut.InFlight == nil:
			out = append(out, fmt.Sprintf("connections in flight at the reboot not counted: min_in_flight %d cannot be checked", v.MinInFlight))
		case *ut.InFlight < v.MinInFlight:
			out = append(out, fmt.Sprintf("%d in flight at the reboot, fewer than min_in_flight %d: the stop proves too little", *ut.InFlight, v.MinInFlight))
		}
	}
	return out
}
