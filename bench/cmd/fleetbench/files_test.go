package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/lab"
)

// labInventory is a lab inventory of one host and both demo services, their
// builds /bin/true (smart-proxy) and /bin/false (rule-proxy).
func labInventory(t *testing.T) []byte {
	t.Helper()
	text, err := lab.RenderInventory(lab.InventoryParams{Source: "test", Key: "/k", KnownHosts: "/kh",
		Hosts: []lab.Host{{Name: "h1", Address: "10.0.0.1"}}, Artifact: "/bin/true", RuleArtifact: "/bin/false", StopTimeout: "20s", MaxParallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// The seed-shaped scenario's inventory: the lab's two units, with batches
// of 2 and every service's old build bounded; without a bound, no service
// keeps the lab template's.
func TestWithPolicy(t *testing.T) {
	text := labInventory(t)
	tests := []struct {
		p           policy
		wantBatch   int
		wantOld     time.Duration
		wantConfirm time.Duration
	}{
		{policy{"2", "1s", "0s"}, 2, time.Second, 0},
		{policy{}, 0, 0, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.p), func(t *testing.T) {
			out, err := withPolicy(text, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			inv, err := inventory.Parse("/tmp/inventory.yaml", out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if tt.wantBatch != 0 && (inv.Rollout.Batch.N != tt.wantBatch || inv.Rollout.Batch.Percent) || inv.Rollout.MaxParallel != 4 || inv.Rollout.ConfirmTimeout != tt.wantConfirm {
				t.Errorf("rollout %+v", inv.Rollout)
			}
			if len(inv.Services) != 2 {
				t.Fatalf("%d services, want smart-proxy and rule-proxy", len(inv.Services))
			}
			for _, svc := range inv.Services {
				if svc.Restart.OldStopTimeout != tt.wantOld || !strings.HasPrefix(svc.DropIn.Settings[0].Value, "20s") {
					t.Errorf("%s: restart %+v drop-in %+v", svc.Unit, svc.Restart, svc.DropIn.Settings)
				}
			}
		})
	}
}
