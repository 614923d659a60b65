package lab_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/lab"
)

// The inventory the lab writes (and the benchmark's variants of it) loads
// with the strict loader, with the values given.
func TestRenderInventoryLoads(t *testing.T) {
	dir := t.TempDir()
	art := filepath.Join(dir, "smart-proxy")
	if err := os.WriteFile(art, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := lab.RenderInventory(lab.InventoryParams{Source: "a test", Key: "/k", KnownHosts: "/kh",
		Hosts: []lab.Host{{Name: "h1", Address: "10.77.0.2"}, {Name: "h2", Address: "10.77.0.3"}}, Artifact: art, StopTimeout: "5s", MaxParallel: 7})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if len(inv.Hosts) != 2 || inv.Rollout.MaxParallel != 7 || inv.Services[0].DropIn.Settings[0] != (inventory.Setting{Key: "TimeoutStopSec", Value: "5s"}) || inv.Services[0].Artifacts[0].Src != art {
		t.Errorf("loaded %+v", inv)
	}
}
