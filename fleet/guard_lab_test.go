package fleet_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/inventory"
)

// guardFiles lists a host's guard files, timers and records, one a line.
const guardFiles = `ls /etc/systemd/system /etc/systemd/system/timers.target.wants /var/lib/fleetfix | grep fleetfix-guard; ` +
	`systemctl list-timers --all --no-legend 'fleetfix-guard-*' | grep -o 'fleetfix-guard-[^ ]*'; true`

// The dead-man switch: a controller that vanishes right after the reboot
// leaves a host that puts itself back within confirm_timeout of its boot;
// the next rollback and rollout say so, and a rollout that finishes leaves
// no guard behind. h10: TestHostThatNeverComesBack only checks that it is
// left alone.
func TestGuardRestoresAHostWhoseControllerVanished(t *testing.T) {
	labtest.Need(t, tl)
	const host = 9
	inv, _ := writeInventory(t, invSpec{hosts: []int{host}, settings: "        TimeoutStopSec: 5s\n", policy: "  confirm_timeout: 5s\n"})
	before := fileState(t, host, labBin) + " / " + fileState(t, host, labDropIn)
	s := rolloutWhoseControllerVanishes(t, inv, host)
	checkGuardRestores(t, host, s, before)

	// The next rollback finds nothing to undo, and says why.
	rb, rev := rollback(t, inv, nil, fleet.ConnectOptions{})
	if statuses(rb) != "h10=unchanged" || !strings.Contains(rev.text(), "run "+s.RunID+" restored itself: restored by the guard at ") {
		t.Errorf("rollback after the guard: %s\n%s", statuses(rb), rev.text())
	}

	checkConfirmedRolloutLeavesNoGuard(t, host, s)
}

// rolloutWhoseControllerVanishes rolls out to the lab host with a controller
// that dies once the reboot has taken sshd down, and checks the run was
// cut off with its guard armed.
func rolloutWhoseControllerVanishes(t *testing.T, inv *inventory.Inventory, host int) *fleet.Summary {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := &events{}
	go func() {
		addr := net.JoinHostPort(tl.State.Hosts[host].Address, "22")
		for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if !strings.Contains(ev.text(), " reboot start") {
				continue
			}
			if sshdGone(addr) {
				cancel()
				return
			}
		}
	}()
	logged := fleet.ReporterFunc(func(e fleet.Event) {
		ev.Report(e)
		if testing.Verbose() {
			t.Logf("%s %s %s %s %v", e.Host, e.Step, e.Phase, e.Message, e.Err)
		}
	})
	s, err := fleet.Rollout(ctx, fleet.Options{Inventory: inv, Dial: fleet.RemoteDialer(inv, fleet.ConnectOptions{}), Reporter: logged, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// The run was cut off by its context: cancelled, not failed.
	if statuses(s) != "h10=cancelled" || s.Hosts[0].Step != fleet.StepReboot || !strings.Contains(ev.text(), "h10 guard done fleetfix-guard-"+s.RunID+" armed") {
		t.Fatalf("the vanished controller's run: %s at %s\n%s", statuses(s), s.Hosts[0].Step, ev.text())
	}
	return s
}

// checkGuardRestores checks that the lab host comes back from run s and,
// nobody confirming, restores itself to before within confirm_timeout of
// its boot, and leaves no guard behind.
func checkGuardRestores(t *testing.T, host int, s *fleet.Summary, before string) {
	t.Helper()
	guard := "fleetfix-guard-" + s.RunID
	var record string
	for deadline := time.Now().Add(2 * time.Minute); record == "" && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if out, err := tl.TrySSH(host, "cat /var/lib/fleetfix/runs/"+s.RunID+".restored"); err == nil {
			record = out
		}
	}
	if !strings.HasPrefix(record, "restored_at=") || !strings.Contains(record, "failed=0") {
		t.Fatalf("no restore record within 2 minutes: %q\n%s", record, tl.SSH(t, host, "journalctl -b 0 -u "+guard+".service --no-pager; journalctl --list-boots --no-pager | tail -3; "+guardFiles+"; grep -h state /var/lib/fleetfix/runs/*.json; journalctl -b -1 --no-pager | grep -i -E 'reboot|guard|fleetfix' | tail -20; true"))
	}
	// The guard ran confirm_timeout after the boot began (its first
	// record), to the timer's one-second accuracy.
	started := micros(t, tl.SSH(t, host, "journalctl -b 0 -u "+guard+".service -o short-unix --no-pager | head -n1 | cut -d' ' -f1"))
	booted := micros(t, tl.SSH(t, host, "journalctl -b 0 -o short-unix --no-pager | head -n1 | cut -d' ' -f1"))
	if d := started - booted; d < 4*time.Second || d > 7*time.Second {
		t.Errorf("the guard started %s after the boot, want about confirm_timeout (5s)", d)
	}
	t.Logf("the guard started %s after the boot's first record; record %q", started-booted, record)
	if got := fileState(t, host, labBin) + " / " + fileState(t, host, labDropIn); got != before {
		t.Errorf("after the guard: %s, want %s", got, before)
	}
	restoredAt := micros(t, tl.SSH(t, host, "journalctl -b 0 -u "+guard+".service -o short-unix --no-pager | grep 'restored "+labBin+"' | cut -d' ' -f1"))
	startedAt := micros(t, tl.SSH(t, host, "journalctl -b 0 -u smart-proxy.service -o short-unix --no-pager | grep Started | tail -n1 | cut -d' ' -f1"))
	if got := tl.SSH(t, host, "systemctl is-active smart-proxy.service; smart-proxy --version"); got != "active\nsmart-proxy 1.0.0 (buggy)" || startedAt < restoredAt {
		t.Errorf("smart-proxy after the guard: %q, started %s after the restore", got, startedAt-restoredAt)
	}
	if got := tl.SSH(t, host, guardFiles+"; ls /var/lib/fleetfix/lock 2>/dev/null; grep -c '\"state\": \"rolled-back\"' /var/lib/fleetfix/runs/"+s.RunID+".json"); got != "1" {
		t.Errorf("after the guard: %q, want no guard files, no lock, the manifest rolled back", got)
	}
}

// checkConfirmedRolloutLeavesNoGuard checks that the rollout after the
// guard restored run s says so too, and, confirmed, leaves no guard.
func checkConfirmedRolloutLeavesNoGuard(t *testing.T, host int, s *fleet.Summary) {
	t.Helper()
	inv, _ := writeInventory(t, invSpec{hosts: []int{host}, settings: "        TimeoutStopSec: 5s\n", policy: "  confirm_timeout: 2m\n"})
	again, aev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(again) != "h10=ok" || !strings.Contains(aev.text(), "h10 preflight info run "+s.RunID+" restored itself") ||
		!strings.Contains(aev.text(), "h10 confirm done confirmed: fleetfix-guard-"+again.RunID+" removed") {
		t.Fatalf("the rollout after the guard: %s\n%s", statuses(again), aev.text())
	}
	// The reboot's timeline: the host's journal beside the controller's.
	if r := again.Hosts[0].Reboot; r == nil || r.SSHDStopped <= 0 || r.Shutdown < r.SSHDStopped || r.Noticed <= 0 {
		t.Errorf("reboot timeline %+v: want sshd stopped, the boot's end and the login from the journal", r)
	} else {
		t.Logf("reboot: sshd stopped %s and the old boot ended %s after the request, login %s after the new sshd; controller: down %s, back %s, active %s",
			r.SSHDStopped, r.Shutdown, r.Noticed, r.Down, r.Back, r.Active)
	}
	if got := tl.SSH(t, host, guardFiles+"; grep -c '^  \"guard\": ' /var/lib/fleetfix/runs/"+again.RunID+".json; true"); got != "0" {
		t.Errorf("a confirmed rollout left %q", got)
	}
	if rb, rev := rollback(t, inv, nil, fleet.ConnectOptions{}); statuses(rb) != "h10=rolled-back" {
		t.Errorf("rollback: %s\n%s", statuses(rb), rev.text())
	}
}
