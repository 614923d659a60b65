package jsonl

import (
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/journal"
)

// NewEvent is e as a line of the run runID.
func NewEvent(e fleet.Event, runID string) Event {
	ev := Event{Schema: Schema, Type: TypeEvent, Time: e.Time.UTC(), RunID: runID, Host: e.Host, Step: e.Step, Phase: e.Phase,
		DurationMS: MS(e.Duration), Message: e.Message, Warning: e.Warning, Changes: e.Changes}
	if e.Result != nil {
		h := NewHost(*e.Result)
		ev.Result = &h
	}
	// Only a host's events of a rollout belong to a batch.
	if e.Batch >= 0 && e.Host != "" {
		b := e.Batch
		ev.Batch = &b
	}
	if e.Err != nil {
		ev.Error = e.Err.Error()
	}
	return ev
}

// NewSummary is the last line of the command's run s.
func NewSummary(command string, s *fleet.Summary) Summary {
	out := Summary{Schema: Schema, Type: TypeSummary, Command: command, RunID: s.RunID, OK: s.OK(), Halted: s.Halted,
		Failed: s.Failed(), Cancelled: s.Cancelled(), DurationMS: MS(s.Duration), Hosts: []Host{}}
	for _, h := range s.Hosts {
		out.Hosts = append(out.Hosts, NewHost(h))
	}
	return out
}

// NewHost is a host's result on the wire.
func NewHost(h fleet.HostResult) Host {
	l := Host{Host: h.Host, Batch: h.Batch, Status: string(h.Status), Step: string(h.Step),
		Error: h.Error, Changed: h.Changed, RestartMS: MS(h.RestartTime), TimeMS: MS(h.Duration), RunID: h.RunID, Units: h.Units, Changes: h.Changes}
	if r := h.Reboot; r != nil {
		l.Reboot = &Reboot{OldBootID: r.OldBootID, NewBootID: r.NewBootID, DownMS: MS(r.Down), BackMS: MS(r.Back), ActiveMS: MS(r.Active), NoticedMS: MS(r.Noticed),
			SSHDStoppedMS: MS(r.SSHDStopped), ShutdownMS: MS(r.Shutdown)}
	}
	for _, t := range h.Timings {
		jt := Timing{Unit: t.Unit, BeforeNote: t.BeforeNote, AfterNote: t.AfterNote,
			BeforeInFlight: t.BeforeInFlight, InFlight: t.InFlight, Before: stopOf(t.Before), After: stopOf(t.After),
			Previous: stopOf(t.Previous), PreviousBoot: t.PreviousBoot, PreviousNote: t.PreviousNote, PreviousChangedBy: t.PreviousChangedBy, Idle: t.Idle()}
		l.Timings = append(l.Timings, jt)
	}
	return l
}

// NewStop is a unit's stop on the wire.
func NewStop(u journal.UnitStop) Stop {
	return Stop{Unit: u.Unit, Start: u.Start.UTC(), End: u.End.UTC(), StopMS: MS(u.Duration), Killed: u.Killed,
		KilledOnRequest: u.KilledOnRequest, Result: u.Result, Unfinished: u.Unfinished}
}

// stopOf is NewStop of u, nil for none.
func stopOf(u *journal.UnitStop) *Stop {
	if u == nil {
		return nil
	}
	s := NewStop(*u)
	return &s
}

// NewScan is scan's line for results, which took took.
func NewScan(results []fleet.ScanResult, took time.Duration) Scan {
	out := Scan{Schema: Schema, Type: TypeScan, DurationMS: MS(took), Hosts: []ScanHost{}}
	for _, r := range results {
		h := ScanHost{Host: r.Host, ShutdownMS: MS(r.ShutdownDuration), Note: r.Note, Error: r.Error, Units: []ScanUnit{}}
		for _, u := range r.Units {
			h.Units = append(h.Units, ScanUnit{Stop: NewStop(u.UnitStop), TimeoutStop: u.TimeoutStop, KillMode: u.KillMode})
		}
		out.Hosts = append(out.Hosts, h)
	}
	return out
}

// MS is d in milliseconds, to the microsecond: the unit of every *_ms field.
func MS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
