package fleet_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	smartproxy "github.com/fleetfix/fleetfix/examples/smart-proxy"
	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/inventory"
)

const (
	labBin    = "/usr/local/bin/smart-proxy"
	labDropIn = "/etc/systemd/system/smart-proxy.service.d/override.conf"
)

// hostState is what a rollback may change on lab host i: the build, the
// drop-in, the unit as systemd has it loaded, and the runs' states (a
// refused rollback is recorded in its run's steps, and that is all).
func hostState(t *testing.T, i int) string {
	t.Helper()
	return fileState(t, i, labBin) + "\n" + fileState(t, i, labDropIn) + "\n" +
		tl.SSH(t, i, "systemctl show -p DropInPaths -p TimeoutStopUSec smart-proxy.service; cd /var/lib/fleetfix/runs && grep -H '\"state\"' *.json")
}

// TestRollbackAllOrNothingOnALabHost: a corrupt backup refuses the
// rollback before any change and names the backup; so does a file hotfixed
// since the run, until --force puts the old build back over it.
func TestRollbackAllOrNothingOnALabHost(t *testing.T) {
	labtest.Need(t, tl)
	inv, _ := writeInventory(t, invSpec{hosts: []int{5}, settings: "        TimeoutStopSec: 5s\n", policy: "  reboot: false\n"})
	before := fileState(t, 5, labBin)
	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s) != "h6=ok" {
		t.Fatalf("rollout: %s\n%s", statuses(s), ev.text())
	}
	bak := labBin + ".bak." + s.RunID

	tl.SSH(t, 5, "echo '# appended' >> "+bak)
	rolledOut := hostState(t, 5)
	rb, ev := rollback(t, inv, inv.Hosts, fleet.ConnectOptions{})
	if statuses(rb) != "h6=failed" || !strings.Contains(rb.Hosts[0].Error, "nothing changed: backup "+bak+" is ") {
		t.Fatalf("rollback with a corrupt backup: %s %q\n%s", statuses(rb), rb.Hosts[0].Error, ev.text())
	}
	if got := hostState(t, 5); got != rolledOut {
		t.Errorf("a refused rollback changed the host:\n got %s\nwant %s", got, rolledOut)
	}

	tl.SSH(t, 5, "truncate -s -11 "+bak+" && echo '# hotfix' >> "+labBin)
	hotfixed := hostState(t, 5)
	rb, ev = rollback(t, inv, inv.Hosts, fleet.ConnectOptions{})
	if msg := rb.Hosts[0].Error; statuses(rb) != "h6=failed" || !strings.Contains(msg, labBin+" was edited since the run: sha256 old "+sha(smartproxy.Buggy)[:12]+", new "+sha(smartproxy.Fixed)[:12]+", current ") || !strings.Contains(msg, "--force") {
		t.Fatalf("rollback over a hotfix: %s %q\n%s", statuses(rb), msg, ev.text())
	}
	if got := hostState(t, 5); got != hotfixed {
		t.Errorf("a refused rollback changed the host:\n got %s\nwant %s", got, hotfixed)
	}

	ev = &events{}
	rb, err := fleet.Rollback(context.Background(), fleet.RollbackOptions{Inventory: inv, Dial: fleet.RemoteDialer(inv, fleet.ConnectOptions{}), Reporter: ev, Force: true})
	if err != nil || statuses(rb) != "h6=rolled-back" {
		t.Fatalf("rollback --force: %v %s\n%s", err, statuses(rb), ev.text())
	}
	if got := fileState(t, 5, labBin); got != before {
		t.Errorf("build after rollback --force: %s, want %s", got, before)
	}
	if got := tl.SSH(t, 5, "test -e "+labDropIn+" && echo dropin; systemctl show -p TimeoutStopUSec smart-proxy.service; systemctl is-active smart-proxy.service; smart-proxy --version"); got != "TimeoutStopUSec=3s\nactive\nsmart-proxy 1.0.0 (buggy)" {
		t.Errorf("h6 after rollback --force: %q", got)
	}
}

// TestPruneKeepsTheNewestRuns: five runs, then prune --keep 2 leaves the
// two newest manifests and their backups (a dry run first removes
// nothing), and both still roll back.
func TestPruneKeepsTheNewestRuns(t *testing.T) {
	labtest.Need(t, tl)
	tl.SSH(t, 5, "cp -p "+labBin+" /root/smart-proxy.orig")
	t.Cleanup(func() {
		_, _ = tl.TrySSH(5, "cp -p /root/smart-proxy.orig "+labBin+" && rm -f "+labDropIn+" /root/smart-proxy.orig && systemctl daemon-reload && systemctl restart smart-proxy.service")
	})
	var inv *inventory.Inventory
	var ids, builds []string
	for i := range 5 {
		build := fmt.Appendf(append([]byte{}, smartproxy.Fixed...), "# build %d\n", i)
		inv, _ = writeInventory(t, invSpec{hosts: []int{5}, artifact: build, settings: "        TimeoutStopSec: 5s\n", policy: "  reboot: false\n"})
		time.Sleep(time.Second) // a run id per second
		s, ev := rollout(t, inv, fleet.ConnectOptions{})
		if statuses(s) != "h6=ok" {
			t.Fatalf("run %d: %s\n%s", i, statuses(s), ev.text())
		}
		ids, builds = append(ids, s.RunID), append(builds, sha(build))
	}
	runs := func() string {
		return tl.SSH(t, 5, "ls /var/lib/fleetfix/runs | tr '\\n' ' '; ls /usr/local/bin | grep 'bak\\.' | tr '\\n' ' '")
	}
	prune := func(dry bool) (*fleet.Summary, *events) {
		ev := &events{}
		s, err := fleet.Prune(context.Background(), fleet.PruneOptions{Inventory: inv, Dial: fleet.RemoteDialer(inv, fleet.ConnectOptions{}), Reporter: ev, Keep: 2, DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		return s, ev
	}

	// The oldest run's stored summary (fleetfix's CLI writes one) goes
	// with it.
	tl.SSH(t, 5, "echo '{}' > /var/lib/fleetfix/runs/"+ids[0]+".summary.json")
	all := runs()
	if s, ev := prune(true); statuses(s) != "h6=ok" || !strings.Contains(ev.text(), "would remove run "+ids[0]+" (complete)") || runs() != all {
		t.Errorf("prune --dry-run: %s, runs %q -> %q\n%s", statuses(s), all, runs(), ev.text())
	}
	s, ev := prune(false)
	if statuses(s) != "h6=ok" {
		t.Fatalf("prune: %s\n%s", statuses(s), ev.text())
	}
	t.Logf("prune --keep 2 of %q: %d file(s) removed in %s", all, s.Hosts[0].Changed, s.Hosts[0].Duration)
	// Every file listed before and not after, the summary among them
	// (earlier tests' runs on this host go too).
	if got, want := s.Hosts[0].Changed, len(strings.Fields(all))-4; got != want {
		t.Errorf("prune removed %d file(s), want %d: every pruned run's backup and manifest, and the summary", got, want)
	}
	want := fmt.Sprintf("%[1]s.json %[2]s.json smart-proxy.bak.%[1]s smart-proxy.bak.%[2]s ", ids[3], ids[4])
	if got := runs(); got != want {
		t.Errorf("after prune --keep 2: %q, want %q", got, want)
	}
	for _, w := range []string{builds[3], builds[2]} {
		rb, ev := rollback(t, inv, inv.Hosts, fleet.ConnectOptions{})
		if got := fileState(t, 5, labBin); statuses(rb) != "h6=rolled-back" || !strings.HasPrefix(got, w) {
			t.Errorf("rollback after the prune: %s, build %s, want %s\n%s", statuses(rb), got, w, ev.text())
		}
	}
	if rb, ev := rollback(t, inv, inv.Hosts, fleet.ConnectOptions{}); statuses(rb) != "h6=unchanged" {
		t.Errorf("rollback of a pruned run: %s\n%s", statuses(rb), ev.text())
	}
}
