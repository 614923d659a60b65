package fleet_test

import (
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/plain"
)

// An idle proof: the fixed build, run without its upstream pool (the
// drop-in's ExecStart), has no connection in flight when the reboot begins,
// so its clean stop is what the buggy build would give too. The stop is
// flagged as proving nothing, and with verify.min_in_flight 1 the gate
// fails the host at verify, with the figure, and on_failure (rollback)
// puts it back as it was. h13, shared with restart_lab_test.go: both leave
// it rolled back.
func TestIdleProofFailsMinInFlight(t *testing.T) {
	labtest.Need(t, tl)
	const host = 12
	inv, _ := writeInventory(t, invSpec{hosts: []int{host},
		settings: "        TimeoutStopSec: 5s\n        ExecStart: [\"\", /usr/local/bin/smart-proxy --pool 0]\n",
		restart:  "    restart:\n      old_stop_timeout: 1s\n",
		verify:   "    verify:\n      min_in_flight: 1\n"})
	state := func() string {
		return fileState(t, host, labBin) + "\n" + fileState(t, host, labDropIn) + "\n" +
			tl.SSH(t, host, "systemctl show -p DropInPaths -p TimeoutStopUSec smart-proxy.service")
	}
	before := state()
	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	t.Cleanup(func() {
		if t.Failed() {
			_, _ = rollback(t, inv, nil, fleet.ConnectOptions{})
		}
	})
	h := s.Hosts[0]
	const why = "smart-proxy.service: 0 in flight at the reboot, fewer than min_in_flight 1: the stop proves too little"
	if h.Status != fleet.StatusRolledBack || h.Step != fleet.StepVerify || !strings.Contains(h.Error, why) || !strings.Contains(h.Error, "; rolled back in ") {
		t.Fatalf("h13: %s at %s: %q; want failed at verify (%s) and rolled back\n%s", h.Status, h.Step, h.Error, why, ev.text())
	}
	if len(h.Timings) != 1 || !h.Timings[0].Idle() || h.Timings[0].After == nil || h.Timings[0].After.Killed {
		t.Fatalf("timings %+v: want one clean stop with 0 in flight", h.Timings)
	}
	tm := h.Timings[0]
	// The old build, with its pool, had its 2 connections at the restart.
	if tm.BeforeInFlight == nil || *tm.BeforeInFlight != 2 {
		t.Errorf("in flight at the restart: %v, want the old build's pool of 2", tm.BeforeInFlight)
	}
	rows := plain.Timings(s.Hosts)
	if len(rows) != 1 || !strings.HasSuffix(rows[0].After(), ", 0 in flight, "+fleet.IdleNote) {
		t.Errorf("plain timings %v: want the after stop marked %q", rows, fleet.IdleNote)
	}
	t.Logf("h13: %s -> %s; %s", rows[0].Before(), rows[0].After(), h.Error)
	if got := state(); got != before {
		t.Errorf("after the rollback on failure:\n got %s\nwant %s", got, before)
	}
	if got := tl.SSH(t, host, guardFiles+"; ls /var/lib/fleetfix/lock 2>/dev/null; systemctl is-active smart-proxy.service; smart-proxy --version"); got != "active\nsmart-proxy 1.0.0 (buggy)" {
		t.Errorf("h13 after the rollback on failure: %q, want no guard, no lock, the old build active", got)
	}
}
