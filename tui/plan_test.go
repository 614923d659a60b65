package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
)

func TestPlanRowsNumberBatchesAsTheRun(t *testing.T) {
	targets := []inventory.Target{{Name: "h1"}, {Name: "h2"}, {Name: "h3"}, {Name: "h4"}}
	preflight := func(host string, n int) fleet.Event {
		return fleet.Event{Host: host, Step: fleet.StepPreflight, Phase: fleet.PhaseDone, Changes: make([]fleet.Change, n)}
	}
	tests := []struct {
		name   string
		policy inventory.Policy
		plan   []fleet.Event
		want   []int
	}{
		{"no plan: the first host is the canary", inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 2}}, nil, []int{0, 1, 1, 2}},
		// The run's canary proves the fix on a host it changes: h1, at the
		// target already, does not count and h2 is the canary too.
		{"an unchanged first host", inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 2}},
			[]fleet.Event{preflight("h1", 0), preflight("h2", 2), preflight("h3", 2), preflight("h4", 2)}, []int{0, 0, 1, 1}},
		{"no canary: batches from 1", inventory.Policy{Batch: inventory.Amount{N: 3}}, nil, []int{1, 1, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &inventory.Inventory{Hosts: targets, Rollout: tt.policy}
			rows := PlanRows(inv, nil, targets, tt.plan)
			for i, r := range rows {
				if r.Name != targets[i].Name || r.Batch != tt.want[i] {
					t.Errorf("row %d: %s batch %d, want %s batch %d", i, r.Name, r.Batch, targets[i].Name, tt.want[i])
				}
			}
		})
	}
}

// TestPlanGroupsByServices: hosts with the same changes but not the same
// services are two groups, each naming its services.
func TestPlanGroupsByServices(t *testing.T) {
	ev := planEvents()
	for i := range ev {
		if ev[i].Host == "h2" && ev[i].Result != nil {
			ev[i].Result = &fleet.HostResult{Host: "h2", Status: fleet.StatusOK, Units: []string{"smart-proxy.service", "db.service"}}
		}
	}
	m := testModel(rows, ev, at(0), Controls{})
	var got [][]string
	for _, g := range m.planGroups() {
		got = append(got, g.hosts)
	}
	if want := [][]string{{"h1"}, {"h2"}, {"h3"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("groups %q, want %q", got, want)
	}
	if s := sized(m, 80, 24).Render(); !strings.Contains(s, "services: smart-proxy, db") {
		t.Errorf("no services of h2 on the plan:\n%s", s)
	}
}
