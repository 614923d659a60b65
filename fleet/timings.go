package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/journal"
)

// UnitTiming is one unit's stop before the fix and at the reboot after it.
// A missing figure has a note saying why.
type UnitTiming struct {
	Unit string
	// Before is the old build's stop at the rollout's restart, read from
	// the journal of that boot: the same build, measured now. A reboot
	// without a restart (fleetfix reboot) has the previous shutdown's here.
	Before *journal.UnitStop
	After  *journal.UnitStop
	// BeforeInFlight and InFlight count the unit's established TCP
	// connections just before the restart and just before the reboot: a
	// stop proves something only when it had connections to end. nil: not
	// counted.
	BeforeInFlight *int
	InFlight       *int
	BeforeNote     string
	AfterNote      string
	// Previous is the unit's stop at the shutdown that ended the boot
	// before the rollout's (PreviousBoot), a second figure beside Before.
	// PreviousChangedBy names the fleetfix run that changed the unit's
	// files during that boot: the build that stopped then may not be the
	// one the restart replaced.
	Previous          *journal.UnitStop
	PreviousBoot      string
	PreviousNote      string
	PreviousChangedBy string
}

// IdleNote marks a stop after the fix that had no connection to close.
const IdleNote = "idle: proves nothing"

// Idle reports whether the stop after the fix had nothing in flight: a
// clean stop of an idle unit is what the buggy build gives too.
func (t UnitTiming) Idle() bool {
	return t.After != nil && t.InFlight != nil && *t.InFlight == 0
}

// lastShutdown reads a boot's shutdown from the host's journal: the boot
// with that id (before: the boot before it), or the previous one when boot
// is "". When there is none it returns a nil Shutdown and a note for the
// operator ("no timings: why"), never a zero.
func lastShutdown(ctx context.Context, h Host, persistent bool, boot string, before bool) (*journal.Shutdown, string, error) {
	if !persistent {
		return nil, volatileNote, nil
	}
	var args []string
	missing := "no previous boot in the journal"
	if boot != "" {
		ref := strings.ReplaceAll(boot, "-", "")
		missing = "boot " + boot + " is not in the journal"
		if before {
			ref += "-1" // journalctl's ID±offset
			missing = "no boot before " + boot + " in the journal"
		}
		args = []string{ref}
	}
	out, err := runScript(ctx, h, scriptJournal, args...)
	return shutdownFrom(out, err, missing)
}

// volatileNote says why a host without a persistent journal has no timings.
const volatileNote = "no persistent journal (/var/log/journal): the previous boot's records are gone"

// shutdownFrom reads a shutdown out of scriptJournal's answer (out, err);
// missing is the note for a boot the journal does not have.
func shutdownFrom(out []byte, err error, missing string) (*journal.Shutdown, string, error) {
	if err != nil {
		if missingBoot(err) {
			return nil, missing, nil
		}
		return nil, "", fmt.Errorf("read the journal: %w", err)
	}
	s, err := journal.ParseShutdown(bytes.NewReader(out))
	if errors.Is(err, journal.ErrNoShutdown) {
		return nil, "the previous boot recorded no shutdown (a crash, or a cut journal)", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("parse the journal: %w", err)
	}
	return s, "", nil
}

// unitTimings pairs each service's stop before and after: before is the
// shutdown that ended the boot before the reboot's, which stands as the
// before of a reboot without a restart (prev is false) or else as the
// previous boot's figure beside the restart's.
func unitTimings(services []inventory.Service, before, after *journal.Shutdown, beforeNote, afterNote string, prev bool) []UnitTiming {
	var out []UnitTiming
	for _, svc := range services {
		ut := UnitTiming{Unit: svc.Unit}
		ut.After, ut.AfterNote = pick(after, afterNote, svc.Unit)
		if prev {
			ut.Previous, ut.PreviousNote = pick(before, beforeNote, svc.Unit)
			if before != nil {
				ut.PreviousBoot = before.BootID
			}
		} else {
			ut.Before, ut.BeforeNote = pick(before, beforeNote, svc.Unit)
		}
		out = append(out, ut)
	}
	return out
}

func pick(s *journal.Shutdown, note, unit string) (*journal.UnitStop, string) {
	if s == nil {
		return nil, note
	}
	if u, ok := s.Unit(unit); ok {
		return &u, ""
	}
	return nil, "the unit did not stop in that shutdown"
}

// DescribeStop renders a stop for people: "90.12s, SIGKILLed" or "0.06s,
// clean", its figure and StopWords.
func DescribeStop(u *journal.UnitStop, note string) string {
	if u == nil {
		return "no timings: " + note
	}
	d := duration.Stop(u.Duration)
	if u.Unfinished {
		d = "≥" + d
	}
	return d + ", " + StopWords(*u)
}

// StopWords is how a stop ended, in the words every front end uses:
// "clean", "SIGKILLed", "SIGKILLed by fleetfix" (old_stop_timeout at a
// restart), "unfinished (the journal ends mid-stop)", or the unit's result.
func StopWords(u journal.UnitStop) string {
	switch {
	case u.Unfinished:
		return "unfinished (the journal ends mid-stop)"
	case u.KilledOnRequest:
		return "SIGKILLed by fleetfix"
	case u.Killed:
		return "SIGKILLed"
	}
	return u.Result
}

// DescribeInFlight renders a stop with the connections it had to end:
// "0.012s, clean, 2 in flight"; a count not taken is left out.
func DescribeInFlight(u *journal.UnitStop, note string, inFlight *int) string {
	d := DescribeStop(u, note)
	if u != nil && inFlight != nil {
		d += fmt.Sprintf(", %d in flight", *inFlight)
	}
	return d
}

// DescribePrevious renders the previous boot's shutdown figure: "90.12s,
// SIGKILLed (boot 1a2b3c4d; run 20261201_101500 changed its files)".
func DescribePrevious(ut UnitTiming) string {
	if ut.Previous == nil && ut.PreviousNote == "" {
		return "-"
	}
	d := DescribeStop(ut.Previous, ut.PreviousNote)
	var label []string
	if ut.PreviousBoot != "" {
		label = append(label, "boot "+shortBoot(ut.PreviousBoot))
	}
	if ut.PreviousChangedBy != "" {
		label = append(label, "run "+ut.PreviousChangedBy+" changed its files")
	}
	if len(label) > 0 {
		d += " (" + strings.Join(label, "; ") + ")"
	}
	return d
}

// shortBoot is a boot id's first 8 hex digits, as journalctl --list-boots
// users know them.
func shortBoot(id string) string {
	id = strings.ReplaceAll(id, "-", "")
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func describeTimings(ts []UnitTiming) string {
	var parts []string
	for _, ut := range ts {
		p := fmt.Sprintf("%s: stop %s -> %s", ut.Unit, DescribeInFlight(ut.Before, ut.BeforeNote, ut.BeforeInFlight), DescribeInFlight(ut.After, ut.AfterNote, ut.InFlight))
		if ut.Previous != nil || ut.PreviousNote != "" {
			p += "; previous shutdown " + DescribePrevious(ut)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// missingBoot tells journalctl's "no such boot" from a real failure (a
// corrupt journal, a permission error), by its own words on stderr: systemd
// 252's, and 257's "No journal boot entry found for the specified boot".
func missingBoot(err error) bool {
	if exitStatus(err) == -1 {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "No such boot ID") || strings.Contains(msg, "Data from the specified boot") ||
		strings.Contains(msg, "is not available") || strings.Contains(msg, "No journal boot entry found")
}
