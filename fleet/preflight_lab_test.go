package fleet_test

import (
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
)

// TestPreflightRefusesWhatWouldFailLater: an owner the host lacks, and a
// drop-in setting the inventory allows but the host's systemd does not have
// (RestartMode came with systemd 254; h11 runs bookworm's 252: the version
// table refuses it, before systemd-analyze would), fail the preflight,
// before the lock, the manifest or any file: the push and the
// daemon-reload would otherwise find them after the backup.
func TestPreflightRefusesWhatWouldFailLater(t *testing.T) {
	labtest.Need(t, tl)
	const host = 10 // h11
	const dropin = "/etc/systemd/system/smart-proxy.service.d/override.conf"
	tests := []struct {
		name    string
		spec    invSpec
		wantErr string
	}{
		{"owner group missing", invSpec{owner: "root:nosuchgroup"},
			"owner root:nosuchgroup of /usr/local/bin/smart-proxy: no group nosuchgroup on the host"},
		{"owner user missing", invSpec{owner: "nosuchuser"}, "no user nosuchuser on the host"},
		{"setting this systemd lacks", invSpec{settings: "        TimeoutStopSec: 5s\n        RestartMode: direct\n"},
			"drop-in for smart-proxy.service: RestartMode= needs systemd 254 or later; this host runs systemd 252"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.hosts = []int{host}
			tt.spec.policy = "  reboot: false\n"
			inv, _ := writeInventory(t, tt.spec)
			runs := func() string {
				// Manifests, the lock, and systemd-analyze's temporary copies.
				return tl.SSH(t, host, "ls /var/lib/fleetfix/runs 2>/dev/null | wc -l; ls -d /var/lib/fleetfix/lock /tmp/tmp.* 2>/dev/null || true")
			}
			beforeRuns := runs()
			beforeFiles := fileState(t, host, "/usr/local/bin/smart-proxy") + " " + fileState(t, host, dropin)

			s, ev := rollout(t, inv, fleet.ConnectOptions{})
			if len(s.Hosts) != 1 || s.Hosts[0].Status != fleet.StatusFailed || s.Hosts[0].Step != fleet.StepPreflight {
				t.Fatalf("want failed at preflight: %s\n%s", statuses(s), ev.text())
			}
			if err := s.Hosts[0].Err(); err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line with %q", err, tt.wantErr)
			}
			if got := runs(); got != beforeRuns {
				t.Errorf("manifests, lock and temporary files: %q before, %q after", beforeRuns, got)
			}
			after := fileState(t, host, "/usr/local/bin/smart-proxy") + " " + fileState(t, host, dropin)
			if after != beforeFiles {
				t.Errorf("files changed: %s -> %s", beforeFiles, after)
			}
		})
	}
}
