package fleet

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/inventory"
)

// TestPerHostShares checks that each host is given its own services and
// files: rule-proxy only where it is selected, the db group's drop-in
// where the override applies.
func TestPerHostShares(t *testing.T) {
	inv, err := inventory.Load("../inventory/testdata/good/roles.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRunner(Options{Inventory: inv, Dial: func(context.Context, inventory.Target) (Host, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host    string
		units   string
		paths   int
		timeout string
	}{
		{"h1", "smart-proxy.service rule-proxy.service", 3, "TimeoutStopSec=20s"},
		{"h2", "smart-proxy.service rule-proxy.service", 3, "TimeoutStopSec=60s"},
		{"h3", "smart-proxy.service", 2, "TimeoutStopSec=60s"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			s := r.share(tt.host)
			if got := strings.Join(s.units(), " "); got != tt.units {
				t.Errorf("units = %q, want %q", got, tt.units)
			}
			if len(s.targets) != tt.paths {
				t.Errorf("%d files, want %d: %+v", len(s.targets), tt.paths, s.targets)
			}
			dropIn := string(s.content["/etc/systemd/system/smart-proxy.service.d/override.conf"])
			if !strings.Contains(dropIn, tt.timeout+"\n") {
				t.Errorf("smart-proxy drop-in lacks %s:\n%s", tt.timeout, dropIn)
			}
		})
	}
}
