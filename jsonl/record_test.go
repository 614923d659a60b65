package jsonl

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/journal"
)

// A stored summary names the shutdown each stop was read at (a reboot
// alone has the previous shutdown as its before), carries the policy and
// its origin, and reads back; another schema or line type is refused.
func TestNewRecord(t *testing.T) {
	stop := &journal.UnitStop{Unit: "a.service", Duration: 20 * time.Second, Killed: true}
	s := &fleet.Summary{RunID: "20261201_101500", Hosts: []fleet.HostResult{{Host: "h1", Status: fleet.StatusOK,
		Timings: []fleet.UnitTiming{{Unit: "a.service", Before: stop, After: stop, Previous: stop}},
		Changes: []fleet.Change{{Path: "/usr/local/bin/a", NewSHA256: "ab", Done: true}}}}}
	inv := &inventory.Inventory{Path: "inv.yaml", Rollout: inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 25, Percent: true}},
		Services: []inventory.Service{{Unit: "a.service", Verify: inventory.Verify{MaxStop: 2 * time.Second}}}}
	started := time.Date(2026, 12, 1, 10, 15, 0, 0, time.UTC)
	for _, tt := range []struct{ command, before string }{{"rollout", SourceRestart}, {"reboot", SourcePrevious}} {
		r := NewRecord(tt.command, s, inv, true, Origin{User: "alice", Controller: "ops-1", Inventory: inv.Path, Started: started})
		tm := r.Hosts[0].Timings[0]
		if tm.Before.Source != tt.before || tm.After.Source != SourceReboot || tm.Previous.Source != SourcePrevious {
			t.Errorf("%s: sources %q %q %q", tt.command, tm.Before.Source, tm.After.Source, tm.Previous.Source)
		}
		if p := r.Policy; p == nil || p.Batch != "25%" || !p.Reboot || len(p.Units) != 1 || p.Units[0].MaxStopMS != 2000 {
			t.Errorf("%s: policy %+v", tt.command, r.Policy)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeSummary(b)
		if err != nil || back.User != "alice" || !back.Started.Equal(started) || len(back.Hosts[0].Changes) != 1 {
			t.Errorf("%s: read back %+v, %v", tt.command, back, err)
		}
	}
	// The summary line stays as it was: no record fields.
	b, _ := json.Marshal(NewSummary("rollout", s))
	for _, f := range []string{`"started"`, `"policy"`, `"user"`, `"source"`} {
		if strings.Contains(string(b), f) {
			t.Errorf("summary line has %s: %s", f, b)
		}
	}
	for _, bad := range []string{`{"schema":2,"type":"summary"}`, `{"schema":1,"type":"scan"}`, `not json`} {
		if _, err := DecodeSummary([]byte(bad)); err == nil {
			t.Errorf("DecodeSummary(%s): no error", bad)
		}
	}
}
