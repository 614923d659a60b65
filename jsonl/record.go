package jsonl

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
)

// Origin is who ran a run, from where and when, for its stored summary.
type Origin struct {
	User       string // the operator's login
	Controller string // the machine fleetfix ran on
	Inventory  string // the inventory file
	Started    time.Time
}

// NewRecord is the stored summary of the command's run s, as `fleetfix
// report` reads it back: the summary line, with the policy of inv the run
// ran under (reboot: whether it rebooted the hosts), who ran it from
// where, and the shutdown each stop was read at.
func NewRecord(command string, s *fleet.Summary, inv *inventory.Inventory, reboot bool, o Origin) Summary {
	out := NewSummary(command, s)
	out.Started, out.User, out.Controller, out.Inventory = o.Started.UTC(), o.User, o.Controller, o.Inventory
	if inv != nil {
		out.Policy = NewPolicy(inv, reboot)
	}
	// A reboot alone has no restart: its before is the previous shutdown.
	before := SourceRestart
	if command == "reboot" {
		before = SourcePrevious
	}
	for i := range out.Hosts {
		for j := range out.Hosts[i].Timings {
			t := &out.Hosts[i].Timings[j]
			setSource(t.Before, before)
			setSource(t.After, SourceReboot)
			setSource(t.Previous, SourcePrevious)
		}
	}
	return out
}

func setSource(s *Stop, source string) {
	if s != nil {
		s.Source = source
	}
}

// NewPolicy is inv's rollout policy on the wire; reboot says whether the
// run rebooted.
func NewPolicy(inv *inventory.Inventory, reboot bool) *Policy {
	p := inv.Rollout
	out := &Policy{Canary: p.Canary, Batch: p.Batch.String(), MaxParallel: p.MaxParallel, FailureBudget: p.FailureBudget.String(),
		Reboot: reboot, OnFailure: string(p.OnFailure), Restart: p.Restart, SettleMS: MS(p.Settle), ConfirmTimeoutMS: MS(p.ConfirmTimeout),
		Units: []UnitPolicy{}}
	for _, svc := range inv.Services {
		out.Units = append(out.Units, UnitPolicy{Unit: svc.Unit, OldStopTimeoutMS: MS(svc.Restart.OldStopTimeout),
			MaxStopMS: MS(svc.Verify.MaxStop), AllowSIGKILL: svc.Verify.AllowSIGKILL, MinInFlight: svc.Verify.MinInFlight})
	}
	return out
}

// DecodeSummary decodes a stored summary (or a summary line), refusing
// another schema or line type.
func DecodeSummary(b []byte) (Summary, error) {
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return Summary{}, fmt.Errorf("run summary: %w", err)
	}
	if s.Schema != Schema || s.Type != TypeSummary {
		return Summary{}, fmt.Errorf("run summary: schema %d, type %q: want schema %d, type %q", s.Schema, s.Type, Schema, TypeSummary)
	}
	return s, nil
}
