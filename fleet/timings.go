package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/journal"
)

// UnitTiming is one unit's stop at the shutdown before the rollout and at
// the reboot after it. A missing side has a note saying why.
type UnitTiming struct {
	Unit       string
	Before     *journal.UnitStop
	After      *journal.UnitStop
	BeforeNote string
	AfterNote  string
	// InFlight is how many TCP connections the unit's processes had
	// established when the reboot began; nil when not counted.
	InFlight *int
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

// unitTimings pairs each service's stop before and after.
func unitTimings(services []inventory.Service, before, after *journal.Shutdown, beforeNote, afterNote string) []UnitTiming {
	var out []UnitTiming
	for _, svc := range services {
		ut := UnitTiming{Unit: svc.Unit}
		ut.Before, ut.BeforeNote = pick(before, beforeNote, svc.Unit)
		ut.After, ut.AfterNote = pick(after, afterNote, svc.Unit)
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

// DescribeStop renders a stop for people: "90.12s, SIGKILLed" or "0.06s, clean".
func DescribeStop(u *journal.UnitStop, note string) string {
	if u == nil {
		return "no timings: " + note
	}
	d := fmt.Sprintf("%.2fs", u.Duration.Seconds())
	if u.Duration < time.Second {
		d = fmt.Sprintf("%.3fs", u.Duration.Seconds())
	}
	switch {
	case u.Unfinished:
		return "≥" + d + ", unfinished (the journal ends mid-stop)"
	case u.Killed:
		return d + ", SIGKILLed"
	case u.Result == "clean":
		return d + ", clean"
	}
	return d + ", " + u.Result
}

func describeTimings(ts []UnitTiming) string {
	var parts []string
	for _, ut := range ts {
		parts = append(parts, fmt.Sprintf("%s: stop %s -> %s", ut.Unit, DescribeStop(ut.Before, ut.BeforeNote), DescribeStop(ut.After, ut.AfterNote)))
	}
	return strings.Join(parts, "; ")
}

// missingBoot tells journalctl's "no such boot" from a real failure (a
// corrupt journal, a permission error), by its own words on stderr.
func missingBoot(err error) bool {
	if exitStatus(err) == -1 {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "No such boot ID") || strings.Contains(msg, "Data from the specified boot") ||
		strings.Contains(msg, "is not available")
}
