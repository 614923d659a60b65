package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
)

// TestStubFleetScan runs the real scan engine and SSH client against three
// stubs: each must come out as a lab host with the buggy build does, or the
// stub-scan figures measure something else than a scan.
func TestStubFleetScan(t *testing.T) {
	journal, err := os.ReadFile("../../../journal/testdata/buggy-reboot.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f, err := startStubFleet(dir, 3, journal)
	if err != nil {
		t.Skipf("cannot listen on 127.81.0.x:%d: %v", stubPort, err)
	}
	defer f.close()
	path, err := f.writeInventory(dir)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := fleet.Scan(ctx, fleet.ScanOptions{Inventory: inv, Dial: fleet.RemoteDialer(inv, fleet.ConnectOptions{})})
	if len(res) != 3 {
		t.Fatalf("%d results, want 3", len(res))
	}
	for _, r := range res {
		if r.Err() != nil {
			t.Fatalf("%s: %v", r.Host, r.Err())
		}
		if len(r.Units) == 0 || r.Units[0].Unit != "smart-proxy.service" || !r.Units[0].Killed || r.Units[0].TimeoutStop != "1min 30s" || r.Units[0].KillMode != "control-group" {
			t.Errorf("%s: units %+v, want smart-proxy.service SIGKILLed first, with systemctl show's settings", r.Host, r.Units)
		}
	}
	if un := f.unanswered(); len(un) > 0 {
		t.Errorf("commands without an answer: %q", un)
	}
}
