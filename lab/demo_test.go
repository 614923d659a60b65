package lab_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	smartproxy "github.com/fleetfix/fleetfix/examples/smart-proxy"
	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/lab"
	"github.com/fleetfix/fleetfix/plain"
)

// This file sorts before fleet_test.go, so its test runs first, on hosts
// just booted: both demo services running their buggy builds.

// TestStillSIGKILLedFailsTheCanaryAtVerify: every lab host runs both demo
// services; a "fix" that keeps the buggy builds (only the drop-in changes)
// goes through the restart and the reboot, where both units are SIGKILLed
// again, and the verify step fails the canary with the figure: the run
// halts and no other host is touched. The canary is then rolled back, so
// the tests after this one find the lab as it was.
func TestStillSIGKILLedFailsTheCanaryAtVerify(t *testing.T) {
	labtest.Need(t, tl)
	for i := range tl.State.Hosts {
		if got := tl.SSH(t, i, "systemctl is-active smart-proxy rule-proxy; rule-proxy --version"); got != "active\nactive\nrule-proxy 2.3.0 (buggy)" {
			t.Fatalf("%s: demo services %q, want both active, rule-proxy buggy", tl.State.Hosts[i].Name, got)
		}
	}
	others := []string{bootID(t, 1), bootID(t, 2)}
	dir := t.TempDir()
	art, rule := filepath.Join(dir, "smart-proxy"), filepath.Join(dir, "rule-proxy")
	for f, b := range map[string][]byte{art: smartproxy.Buggy, rule: smartproxy.RuleBuggy} {
		if err := os.WriteFile(f, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := lab.RenderInventory(lab.InventoryParams{Source: "a test", Key: tl.Config.KeyFile(), KnownHosts: tl.Config.KnownHostsFile(),
		Hosts: tl.State.Hosts, Artifact: art, RuleArtifact: rule, StopTimeout: "3s", MaxParallel: 10})
	if err != nil {
		t.Fatal(err)
	}
	inv := loadRendered(t, dir, b)
	dial := fleet.RemoteDialer(inv, fleet.ConnectOptions{})
	s, err := fleet.Rollout(context.Background(), fleet.Options{Inventory: inv, Dial: dial, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	h1 := s.Hosts[0]
	for _, row := range plain.Timings(s.Hosts) {
		t.Logf("%s", strings.Join(row.Cells(), " | "))
	}
	// on_failure: rollback (the default): the canary that failed at verify
	// is put back at once, and still counts as failed.
	if h1.Status != fleet.StatusRolledBack || h1.Step != fleet.StepVerify || !h1.Failed() || !strings.Contains(h1.Error, "; rolled back in ") {
		t.Fatalf("h1: %s at %s: %s; want failed at verify and rolled back", h1.Status, h1.Step, h1.Error)
	}
	t.Logf("h1 failed at verify: %s", h1.Error)
	for _, unit := range []string{"smart-proxy.service", "rule-proxy.service"} {
		if !strings.Contains(h1.Error, unit+": stop 3.") || !strings.Contains(h1.Error, "SIGKILLed at the reboot: the fix did not take") {
			t.Errorf("h1's error %q: want %s SIGKILLed after about 3s", h1.Error, unit)
		}
	}
	if len(h1.Timings) != 2 {
		t.Errorf("h1 timings %+v: want two units", h1.Timings)
	}
	if !s.Halted || s.Hosts[1].Status != fleet.StatusNotStarted || s.Hosts[2].Status != fleet.StatusNotStarted {
		t.Errorf("halted %v, h2 %s, h3 %s: want the run halted after the canary", s.Halted, s.Hosts[1].Status, s.Hosts[2].Status)
	}
	for i, id := range others {
		if now := bootID(t, i+1); now != id {
			t.Errorf("h%d rebooted", i+2)
		}
		if runs := tl.SSH(t, i+1, "ls /var/lib/fleetfix/runs 2>/dev/null | grep -c "+s.RunID+" || true"); runs != "0" {
			t.Errorf("h%d has a manifest of run %s", i+2, s.RunID)
		}
	}
	rb, err := fleet.Rollback(context.Background(), fleet.RollbackOptions{Inventory: inv, Targets: inv.Hosts[:1], Dial: dial, Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if st := rb.Hosts[0].Status; st != fleet.StatusUnchanged {
		t.Errorf("rollback of h1: %s %s: want nothing left to roll back", st, rb.Hosts[0].Error)
	}
}

func bootID(t *testing.T, i int) string {
	t.Helper()
	return tl.SSH(t, i, "cat /proc/sys/kernel/random/boot_id")
}
