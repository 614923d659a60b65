// Package suggest turns a fleet's scan (fleet.Scan) into the services:
// entries of an inventory that fix what it found: the units whose stop
// the last shutdown SIGKILLed or waited long on. It renders only; the
// operator reviews the file, merges it into an inventory, and runs plan.
package suggest

import (
	"cmp"
	"slices"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
)

// DefaultSlow is the stop time from which a unit that was not SIGKILLed
// still gets a fix: well past any stop a shutdown should wait on.
const DefaultSlow = 5 * time.Second

// Options configure a suggestion.
type Options struct {
	// Inventory is the scanned inventory: its groups name a unit's hosts
	// when they are exactly one group's members. May be nil.
	Inventory *inventory.Inventory
	// Source names the scanned inventory in the header.
	Source string
	// Slow is the stop time that makes a unit slow (default DefaultSlow).
	Slow time.Duration
}

// Unit is one unit the scan found SIGKILLed or slow, fleet-wide.
type Unit struct {
	Name string
	// Stops are the unit's stop on each host the scan saw it on, in scan
	// order.
	Stops []Stop
}

// Stop is a unit's stop on one host, with the settings that bounded it.
type Stop struct {
	Host string
	fleet.ScanUnit
}

// Units gathers, from the hosts that answered, the units that were
// SIGKILLed after their stop timeout or stopped slower than slow on some
// host, each with its stop on every host the scan saw it on (a fix for the
// unit is a fix for all of them), the most SIGKILLed first, then the
// slowest. A SIGKILL fleetfix asked for at a restart is not the unit's hang.
func Units(results []fleet.ScanResult, slow time.Duration) []Unit {
	if slow <= 0 {
		slow = DefaultSlow
	}
	bad := map[string]bool{}
	for _, r := range results {
		for _, u := range r.Units {
			if u.Killed && !u.KilledOnRequest || u.Duration >= slow {
				bad[u.Unit] = true
			}
		}
	}
	var units []Unit
	at := map[string]int{}
	for _, r := range results {
		for _, u := range r.Units {
			if !bad[u.Unit] {
				continue
			}
			i, ok := at[u.Unit]
			if !ok {
				i = len(units)
				at[u.Unit] = i
				units = append(units, Unit{Name: u.Unit})
			}
			units[i].Stops = append(units[i].Stops, Stop{Host: r.Host, ScanUnit: u})
		}
	}
	slices.SortStableFunc(units, func(a, b Unit) int {
		return cmp.Or(cmp.Compare(b.killed(), a.killed()), cmp.Compare(b.longest(), a.longest()))
	})
	return units
}

// killed counts the hosts where the stop timed out into SIGKILL.
func (u Unit) killed() int {
	n := 0
	for _, s := range u.Stops {
		if s.Killed && !s.KilledOnRequest {
			n++
		}
	}
	return n
}

func (u Unit) longest() time.Duration {
	var d time.Duration
	for _, s := range u.Stops {
		d = max(d, s.Duration)
	}
	return d
}

func (u Unit) shortest() time.Duration {
	d := u.Stops[0].Duration
	for _, s := range u.Stops {
		d = min(d, s.Duration)
	}
	return d
}

func (u Unit) hosts() []string {
	out := make([]string, len(u.Stops))
	for i, s := range u.Stops {
		out[i] = s.Host
	}
	return out
}

// distinct returns the distinct values of f over the unit's stops, in
// order of first appearance.
func (u Unit) distinct(f func(Stop) string) []string {
	var out []string
	for _, s := range u.Stops {
		if v := f(s); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
