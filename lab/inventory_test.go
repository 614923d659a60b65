package lab_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/lab"
)

// The inventory the lab writes (and the benchmark's variants of it) loads
// with the strict loader, with the values given.
func TestRenderInventoryLoads(t *testing.T) {
	dir := t.TempDir()
	art, rule := filepath.Join(dir, "smart-proxy"), filepath.Join(dir, "rule-proxy")
	for _, f := range []string{art, rule} {
		if err := os.WriteFile(f, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := lab.RenderInventory(lab.InventoryParams{Source: "a test", Key: "/k", KnownHosts: "/kh",
		Hosts: []lab.Host{{Name: "h1", Address: "10.77.0.2"}, {Name: "h2", Address: "10.77.0.3"}}, Artifact: art, RuleArtifact: rule, StopTimeout: "5s", MaxParallel: 7})
	if err != nil {
		t.Fatal(err)
	}
	inv := loadRendered(t, dir, b)
	if len(inv.Hosts) != 2 || inv.Rollout.MaxParallel != 7 || inv.Services[0].DropIn.Settings[0] != (inventory.Setting{Key: "TimeoutStopSec", Value: "5s"}) || inv.Services[0].Artifacts[0].Src != art {
		t.Errorf("loaded %+v", inv)
	}
	// Both demo services, each gated at the verify step.
	if len(inv.Services) != 2 || inv.Services[1].Unit != "rule-proxy.service" || inv.Services[1].Artifacts[0].Src != rule ||
		inv.Services[1].Health.TCP != "127.0.0.1:8081" || inv.Services[1].DropIn.Settings[0].Value != "5s" {
		t.Fatalf("services %+v", inv.Services)
	}
	for _, svc := range inv.Services {
		if want := (inventory.Verify{MaxStop: 2 * time.Second}); svc.Verify != want {
			t.Errorf("%s verify %+v, want %+v", svc.Unit, svc.Verify, want)
		}
		if svc.Restart.OldStopTimeout != time.Second {
			t.Errorf("%s old_stop_timeout %s, want 1s: the buggy build's known hang is bounded", svc.Unit, svc.Restart.OldStopTimeout)
		}
	}
}

// loadRendered writes a rendered inventory into dir and loads it.
func loadRendered(t *testing.T, dir string, b []byte) *inventory.Inventory {
	t.Helper()
	path := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return inv
}
