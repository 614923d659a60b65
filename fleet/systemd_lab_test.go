package fleet_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
)

// Hosts of these tests: h3 (bookworm, systemd 252) is only read, h6
// (trixie, systemd 257) is rebooted and left running as it was.
const bookwormHost, trixieHost = 2, 5

// inhibit holds a block inhibitor on shutdown on host i until the test ends.
func inhibit(t *testing.T, i int) {
	t.Helper()
	tl.SSH(t, i, `systemd-run --quiet --collect --unit=fleetfix-inhibit-test systemd-inhibit --what=shutdown --mode=block --who=fleetfix-test --why="lab test" sleep 600
until busctl call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager ListInhibitors | grep -q fleetfix-test; do sleep 0.05; done`)
	t.Cleanup(func() { _, _ = tl.TrySSH(i, "systemctl stop fleetfix-inhibit-test 2>/dev/null; true") })
}

// rebootBySSH reboots host i and waits until it runs its new boot.
func rebootBySSH(t *testing.T, i int) {
	t.Helper()
	old := tl.SSH(t, i, "cat /proc/sys/kernel/random/boot_id")
	// The SSH call may die with the host; only the boot id tells it rebooted.
	_, _ = tl.TrySSH(i, "systemd-run --on-active=0.1 --timer-property=AccuracySec=10ms systemctl reboot")
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err := tl.TrySSH(i, "cat /proc/sys/kernel/random/boot_id; systemctl is-system-running --wait")
		if f := strings.Fields(out); err == nil && len(f) == 2 && f[0] != old && f[1] == "running" {
			return
		}
	}
	t.Fatalf("%s did not come back from its reboot within 60s", tl.State.Hosts[i].Name)
}

// TestPreflightRefusesBeforeAnyChange: a setting the host's systemd is too
// old for (RestartMode=, systemd 254, on bookworm's 252), and a reboot a
// block inhibitor holds back (on trixie), each fail the host in preflight
// with the reason: its files, runs and boot stay as they were.
func TestPreflightRefusesBeforeAnyChange(t *testing.T) {
	labtest.Need(t, tl)
	tests := []struct {
		name     string
		host     int
		settings string
		inhibit  bool
		want     string
	}{
		{"setting newer than systemd 252", bookwormHost, "        RestartMode: direct\n", false,
			"RestartMode= needs systemd 254 or later; this host runs systemd 252"},
		{"block inhibitor", trixieHost, "", true,
			`reboot inhibited by "fleetfix-test" (lab test, pid `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.inhibit {
				inhibit(t, tt.host)
			}
			const state = `sha256sum < /usr/local/bin/smart-proxy; ls /var/lib/fleetfix/runs 2>/dev/null | wc -l; cat /proc/sys/kernel/random/boot_id`
			before := tl.SSH(t, tt.host, state)
			inv, _ := writeInventory(t, invSpec{hosts: []int{tt.host}, settings: tt.settings})
			s, ev := rollout(t, inv, fleet.ConnectOptions{})
			h := s.Hosts[0]
			if h.Status != fleet.StatusFailed || h.Step != fleet.StepPreflight || !strings.Contains(h.Err().Error(), tt.want) {
				t.Fatalf("%s at %s: %v; want a preflight failure %q\n%s", h.Status, h.Step, h.Err(), tt.want, ev.text())
			}
			if after := tl.SSH(t, tt.host, state); after != before {
				t.Errorf("the host changed:\n%s\n->\n%s", before, after)
			}
		})
	}
}

// TestRebootPastAnInhibitor: on trixie (systemd 257), whose logind refuses
// even root's reboot under a block inhibitor, reboot_inhibitors: ignore
// reboots the host all the same, and the journal still gives the stop
// times; respect fails the reboot in its preflight.
func TestRebootPastAnInhibitor(t *testing.T) {
	labtest.Need(t, tl)
	// The journal step reads the shutdown before too: the host needs one.
	rebootBySSH(t, trixieHost)
	inhibit(t, trixieHost)
	for _, policy := range []string{"  reboot_inhibitors: respect\n", "  reboot_inhibitors: ignore\n"} {
		inv, _ := writeInventory(t, invSpec{hosts: []int{trixieHost}, policy: policy})
		ev := &events{}
		old := tl.SSH(t, trixieHost, "cat /proc/sys/kernel/random/boot_id")
		s, err := fleet.Reboot(context.Background(), fleet.Options{Inventory: inv, Dial: fleet.RemoteDialer(inv, fleet.ConnectOptions{}), Reporter: ev})
		if err != nil {
			t.Fatal(err)
		}
		h := s.Hosts[0]
		now := tl.SSH(t, trixieHost, "cat /proc/sys/kernel/random/boot_id")
		if strings.Contains(policy, "respect") {
			if h.Status != fleet.StatusFailed || h.Step != fleet.StepPreflight || now != old {
				t.Errorf("respect: %s at %s (%v), boot %s -> %s; want a preflight failure and no reboot\n%s", h.Status, h.Step, h.Err(), old, now, ev.text())
			}
			continue
		}
		if h.Status != fleet.StatusOK || now == old || h.Reboot == nil || len(h.Timings) == 0 {
			t.Fatalf("ignore: %s at %s (%v), boot %s -> %s, reboot %+v\n%s", h.Status, h.Step, h.Err(), old, now, h.Reboot, ev.text())
		}
		u := h.Timings[0]
		if u.After == nil {
			t.Fatalf("no stop time of %s from the journal (%s)\n%s", u.Unit, u.AfterNote, ev.text())
		}
		t.Logf("rebooted past the inhibitor: back after %v; %s stopped in %v", h.Reboot.Back, u.Unit, u.After.Duration)
		if !strings.Contains(ev.text(), "the reboot goes past inhibitors") {
			t.Errorf("no event names the inhibitor:\n%s", ev.text())
		}
	}
}
