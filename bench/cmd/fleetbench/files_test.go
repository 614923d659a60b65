package main

import (
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/lab"
)

// The seed-shaped scenario's inventory: the lab's, with batches of 2 and
// every service's old build bounded, whatever services the lab lists.
func TestWithPolicy(t *testing.T) {
	text, err := lab.RenderInventory(lab.InventoryParams{Source: "test", Key: "/k", KnownHosts: "/kh",
		Hosts: []lab.Host{{Name: "h1", Address: "10.0.0.1"}}, Artifact: "/bin/true", StopTimeout: "20s", MaxParallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	out, err := withPolicy(text, "2", "1s")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Parse("/tmp/inventory.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if inv.Rollout.Batch.N != 2 || inv.Rollout.Batch.Percent || inv.Rollout.MaxParallel != 4 {
		t.Errorf("rollout %+v", inv.Rollout)
	}
	for _, svc := range inv.Services {
		if svc.Restart.OldStopTimeout.String() != "1s" || !strings.HasPrefix(svc.DropIn.Settings[0].Value, "20s") {
			t.Errorf("%s: restart %+v drop-in %+v", svc.Unit, svc.Restart, svc.DropIn.Settings)
		}
	}
}
