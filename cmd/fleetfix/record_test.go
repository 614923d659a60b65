package main

import (
	"slices"
	"testing"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
)

func TestReachedHostsLeavesOutHostsItCannotReach(t *testing.T) {
	targets := []inventory.Target{{Name: "ok"}, {Name: "never"}, {Name: "noconn"}, {Name: "down"}, {Name: "failed-restart"}}
	s := &fleet.Summary{Hosts: []fleet.HostResult{
		{Host: "ok", Status: fleet.StatusOK},
		{Host: "never", Status: fleet.StatusNotStarted},
		{Host: "noconn", Status: fleet.StatusFailed, Step: fleet.StepConnect},
		{Host: "down", Status: fleet.StatusFailed, Step: fleet.StepReboot},
		{Host: "failed-restart", Status: fleet.StatusFailed, Step: fleet.StepRestart},
	}}
	var got []string
	for _, h := range reachedHosts(targets, s) {
		got = append(got, h.Name)
	}
	if want := []string{"ok", "failed-restart"}; !slices.Equal(got, want) {
		t.Errorf("reached %v, want %v", got, want)
	}
}
