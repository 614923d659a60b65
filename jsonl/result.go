package jsonl

import (
	"math"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/journal"
)

// Result is the host's line read back as fleet's HostResult, NewHost's
// inverse: a stored summary's host is then judged and tabled by the same
// methods and rows as a live run's.
func (h Host) Result() fleet.HostResult {
	r := fleet.HostResult{Host: h.Host, Batch: h.Batch, Status: fleet.Status(h.Status), Step: fleet.Step(h.Step), Error: h.Error,
		Changed: h.Changed, RestartTime: Duration(h.RestartMS), Duration: Duration(h.TimeMS), RunID: h.RunID, Units: h.Units, Changes: h.Changes}
	if b := h.Reboot; b != nil {
		r.Reboot = &fleet.RebootTiming{OldBootID: b.OldBootID, NewBootID: b.NewBootID, Down: Duration(b.DownMS), Back: Duration(b.BackMS),
			Active: Duration(b.ActiveMS), Noticed: Duration(b.NoticedMS), SSHDStopped: Duration(b.SSHDStoppedMS), Shutdown: Duration(b.ShutdownMS)}
	}
	for _, t := range h.Timings {
		r.Timings = append(r.Timings, fleet.UnitTiming{Unit: t.Unit, Before: t.Before.unitStop(), After: t.After.unitStop(),
			BeforeInFlight: t.BeforeInFlight, InFlight: t.InFlight, BeforeNote: t.BeforeNote, AfterNote: t.AfterNote,
			Previous: t.Previous.unitStop(), PreviousBoot: t.PreviousBoot, PreviousNote: t.PreviousNote, PreviousChangedBy: t.PreviousChangedBy})
	}
	return r
}

// Failed reports whether the host failed, as fleet.HostResult.Failed.
func (h Host) Failed() bool { return h.Result().Failed() }

// UnitStop is the stop read back, NewStop's inverse.
func (s Stop) UnitStop() journal.UnitStop {
	return journal.UnitStop{Unit: s.Unit, Start: s.Start, End: s.End, Duration: Duration(s.StopMS), Killed: s.Killed,
		KilledOnRequest: s.KilledOnRequest, Result: s.Result, Unfinished: s.Unfinished}
}

// unitStop is UnitStop of s, nil for none.
func (s *Stop) unitStop() *journal.UnitStop {
	if s == nil {
		return nil
	}
	u := s.UnitStop()
	return &u
}

// Duration is a *_ms figure as a duration, MS's inverse (to the
// microsecond the wire keeps).
func Duration(ms float64) time.Duration {
	return time.Duration(math.Round(ms*1000)) * time.Microsecond
}
