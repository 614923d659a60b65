package fleet_test

import (
	"context"
	"strings"
	"testing"
	"time"

	smartproxy "github.com/fleetfix/fleetfix/examples/smart-proxy"
	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/inventory"
)

// rolesServices: h1 and h2 run smart-proxy and rule-proxy, h3 only
// smart-proxy; the db group (h2, h3) stops smart-proxy with 60s. The old
// builds hang on SIGTERM: old_stop_timeout keeps the restart short.
const rolesServices = `services:
  - unit: smart-proxy
    artifacts: [{src: smart-proxy, dest: /usr/local/bin/smart-proxy, mode: "0755", owner: "root:root"}]
    health: {tcp: 127.0.0.1:8080}
    restart: {old_stop_timeout: 1s}
    overrides:
      - groups: [db]
        dropin: {settings: {TimeoutStopSec: 60s}}
  - unit: rule-proxy
    groups: [edge]
    artifacts: [{src: rule-proxy, dest: /usr/local/bin/rule-proxy, mode: "0755", owner: "root:root"}]
    restart: {old_stop_timeout: 1s}
`

// TestPerHostServices plans, rolls out (with the reboot and its verify) and
// rolls back a fleet whose hosts run different services with different
// settings: each host gets, is checked for and gives back only its own.
func TestPerHostServices(t *testing.T) {
	labtest.Need(t, tl)
	start := time.Now()
	const smartDropIn = "/etc/systemd/system/smart-proxy.service.d/override.conf"
	const ruleDropIn = "/etc/systemd/system/rule-proxy.service.d/override.conf"
	paths := []string{"/usr/local/bin/smart-proxy", smartDropIn, "/usr/local/bin/rule-proxy", ruleDropIn}
	inv, _ := writeInventory(t, invSpec{hosts: []int{0, 1, 2},
		hostExtra: map[int]string{0: "    groups: [edge]\n", 1: "    groups: [edge, db]\n", 2: "    groups: [db]\n"},
		services:  rolesServices, files: map[string][]byte{"rule-proxy": smartproxy.RuleFixed},
		policy: "  canary: 0\n  batch: 100%\n"})
	before := map[int][]string{}
	for i := range 3 {
		for _, p := range paths {
			before[i] = append(before[i], fileState(t, i, p))
		}
	}
	t.Cleanup(func() {
		// Whatever failed, the hosts go back as they were.
		rollback(t, inv, inv.Hosts, fleet.ConnectOptions{})
		for i := range 3 {
			for j, p := range paths {
				if got := fileState(t, i, p); got != before[i][j] {
					t.Errorf("%s %s after the rollback: %s, want %s", inv.Hosts[i].Name, p, got, before[i][j])
				}
			}
		}
		t.Logf("plan, rollout with reboot, rollback on 3 hosts: %s", time.Since(start).Round(time.Millisecond))
	})

	checkRolesPlan(t, inv)
	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s) != "h1=ok h2=ok h3=ok" {
		t.Fatalf("rollout: %s\n%s", statuses(s), ev.text())
	}
	wantUnits := []string{"smart-proxy.service rule-proxy.service", "smart-proxy.service rule-proxy.service", "smart-proxy.service"}
	for i, h := range s.Hosts {
		if got := strings.Join(h.Units, " "); got != wantUnits[i] {
			t.Errorf("%s units %q, want %q", h.Host, got, wantUnits[i])
		}
		// Verify read, and passed, the stop of the host's own units only:
		// h3's rule-proxy (not its service) is not asked about.
		if len(h.Timings) != len(strings.Fields(wantUnits[i])) {
			t.Errorf("%s timings %+v: want one per unit of %s", h.Host, h.Timings, wantUnits[i])
		}
	}
	// The reload names each unit beside the settings it checked there.
	wantReload := map[string]string{
		"h1": "settings in effect: smart-proxy.service TimeoutStopUSec=20s KillMode=mixed KillSignal=15 FinalKillSignal=9; rule-proxy.service TimeoutStopUSec=20s",
		"h2": "settings in effect: smart-proxy.service TimeoutStopUSec=1min KillMode=mixed KillSignal=15 FinalKillSignal=9; rule-proxy.service TimeoutStopUSec=20s",
		"h3": "settings in effect: smart-proxy.service TimeoutStopUSec=1min KillMode=mixed",
	}
	for _, e := range ev.all {
		if e.Step == fleet.StepReload && e.Phase == fleet.PhaseDone && !strings.HasPrefix(e.Message, wantReload[e.Host]) {
			t.Errorf("%s reload: %q, want it to start %q", e.Host, e.Message, wantReload[e.Host])
		}
	}
	show := "systemctl show -p TimeoutStopUSec --value smart-proxy; rule-proxy --version; [ -e " + ruleDropIn + " ] && echo rule-dropin || echo no-rule-dropin"
	wantHost := []string{"20s\nrule-proxy 2.3.1 (fixed)\nrule-dropin", "1min\nrule-proxy 2.3.1 (fixed)\nrule-dropin", "1min\n"}
	for i := range 3 {
		got := tl.SSH(t, i, show)
		if i == 2 {
			// h3's rule-proxy is left as it was.
			if !strings.HasPrefix(got, wantHost[2]) || !strings.HasSuffix(got, "no-rule-dropin") || strings.Contains(got, "fixed") {
				t.Errorf("h3: %q: want smart-proxy at 1min, rule-proxy untouched", got)
			}
			continue
		}
		if got != wantHost[i] {
			t.Errorf("%s: %q, want %q", inv.Hosts[i].Name, got, wantHost[i])
		}
	}
}

// checkRolesPlan: the plan shows each host its own services and drop-in.
func checkRolesPlan(t *testing.T, inv *inventory.Inventory) {
	t.Helper()
	ev := &events{}
	o := fleet.PlanOptions(fleet.Options{Inventory: inv, Dial: fleet.RemoteDialer(inv, fleet.ConnectOptions{}), Reporter: ev})
	if _, err := fleet.Rollout(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ units, timeout string }{
		"h1": {"(smart-proxy.service rule-proxy.service)", "+TimeoutStopSec=20s"},
		"h2": {"(smart-proxy.service rule-proxy.service)", "+TimeoutStopSec=60s"},
		"h3": {"(smart-proxy.service)", "+TimeoutStopSec=60s"},
	}
	for _, e := range ev.all {
		if e.Step != fleet.StepPreflight || e.Phase != fleet.PhaseDone {
			continue
		}
		w := want[e.Host]
		if !strings.HasSuffix(e.Message, w.units) {
			t.Errorf("plan %s: %q, want the units %s", e.Host, e.Message, w.units)
		}
		for _, c := range e.Changes {
			if c.Unit == "rule-proxy.service" && e.Host == "h3" {
				t.Errorf("plan h3 changes %s of rule-proxy", c.Path)
			}
			if c.Path == "/etc/systemd/system/smart-proxy.service.d/override.conf" && c.Diff != "" && !strings.Contains(c.Diff, w.timeout) {
				t.Errorf("plan %s: smart-proxy drop-in diff lacks %s:\n%s", e.Host, w.timeout, c.Diff)
			}
		}
		delete(want, e.Host)
	}
	for h := range want {
		t.Errorf("plan: no preflight of %s\n%s", h, ev.text())
	}
}
