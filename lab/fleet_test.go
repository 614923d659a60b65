package lab_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	smartproxy "github.com/fleetfix/fleetfix/examples/smart-proxy"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/lab"
)

var tl *labtest.Lab

// The lab's own tests run on a lab of 3 hosts whose demo service has a 3 s
// TimeoutStopSec, so the buggy build's hang takes 3 s instead of 90: h1 and
// h3 on bookworm, h2 on trixie with sshd started by ssh.socket.
func TestMain(m *testing.M) {
	os.Exit(labtest.Main(m, labtest.Options{Name: "lab", Index: 1, Hosts: 3, StopTimeout: 3 * time.Second,
		Distro: "bookworm,trixie", SSHSocket: true}, &tl))
}

// Each host runs the release and systemd the lab recorded for it, and
// starts sshd by the unit recorded: ssh.socket (the service then started
// by the first connection) or ssh.service alone.
func TestHostsRunTheirDistro(t *testing.T) {
	labtest.Need(t, tl)
	want := []struct{ distro, systemd, sshd string }{
		{"bookworm", "252", "ssh.service"}, {"trixie", "257", "ssh.socket"}, {"bookworm", "252", "ssh.service"},
	}
	for i, h := range tl.State.Hosts {
		w := want[i]
		if h.Distro != w.distro || !strings.HasPrefix(h.Systemd, w.systemd+".") || h.SSHD != w.sshd {
			t.Errorf("%s recorded as %s, systemd %s, %s; want %s, %s.x, %s", h.Name, h.Distro, h.Systemd, h.SSHD, w.distro, w.systemd, w.sshd)
		}
		out := tl.SSH(t, i, `. /etc/os-release; echo "$VERSION_CODENAME"; systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'
systemctl is-active ssh.socket || true`)
		got := strings.Fields(out)
		sockState := map[string]string{"ssh.socket": "active", "ssh.service": "inactive"}[w.sshd]
		if len(got) < 3 || got[0] != w.distro || got[1] != w.systemd || got[2] != sockState {
			t.Errorf("%s: release, systemd, ssh.socket = %q; want %s %s %s", h.Name, out, w.distro, w.systemd, sockState)
		}
	}
}

func TestUpFromCache(t *testing.T) {
	labtest.Need(t, tl)
	t.Logf("lab up of %d hosts (cached root filesystem) took %.2fs", len(tl.State.Hosts), tl.UpTime.Seconds())
	// A second up is a no-op for hosts already running: same boot ids.
	before := bootIDs(t)
	if _, err := lab.Up(context.Background(), tl.Config, tl.UpOptions); err != nil {
		t.Fatal(err)
	}
	if after := bootIDs(t); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("a second lab up rebooted hosts: %v -> %v", before, after)
	}
	inv, err := os.ReadFile(tl.Config.InventoryFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range tl.State.Hosts {
		if !strings.Contains(string(inv), "address: "+h.Address) {
			t.Errorf("inventory lacks %s", h.Address)
		}
	}
}

func bootIDs(t *testing.T) []string {
	var ids []string
	for i := range tl.State.Hosts {
		ids = append(ids, tl.SSH(t, i, "cat /proc/sys/kernel/random/boot_id"))
	}
	return ids
}

// Each host answers over SSH with strict host key checking, is itself, and is
// running; with a wrong key in known_hosts the same login is refused.
func TestHostsAnswerWithStrictHostKeys(t *testing.T) {
	labtest.Need(t, tl)
	for i, h := range tl.State.Hosts {
		out := tl.SSH(t, i, "hostname; systemctl is-system-running; systemctl is-active smart-proxy smart-upstream; test -d /var/log/journal && echo persistent")
		want := h.Name + "\nrunning\nactive\nactive\npersistent"
		if out != want {
			t.Errorf("%s: got %q, want %q", h.Name, out, want)
		}
	}
	// A known_hosts file that names h1's address with h2's key must be refused.
	kh, err := os.ReadFile(tl.Config.KnownHostsFile())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
	if len(lines) != len(tl.State.Hosts) {
		t.Fatalf("known_hosts has %d lines for %d hosts", len(lines), len(tl.State.Hosts))
	}
	key2 := strings.SplitN(lines[1], " ", 2)[1]
	wrong := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(wrong, []byte(tl.State.Hosts[0].Address+" "+key2+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := lab.SSHArgs(tl.Config, tl.State.Hosts[0])
	for i, a := range args {
		if strings.HasPrefix(a, "UserKnownHostsFile=") {
			args[i] = "UserKnownHostsFile=" + wrong
		}
	}
	out, err := exec.Command("ssh", append(args, "true")...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Host key verification failed") {
		t.Errorf("ssh with a wrong host key: err=%v out=%s", err, out)
	}
}

// stopMillis stops smart-proxy on host i and returns the stop time as the
// journal saw it (Stopping -> Stopped) and the unit's journal for that stop.
func stopMillis(t *testing.T, i int) (int64, string) {
	t.Helper()
	out := tl.SSH(t, i, `since=$(date +%s.%N); systemctl stop smart-proxy.service; sleep 0.2
journalctl -u smart-proxy.service --since "@$since" -o short-unix --no-pager`)
	var start, end float64
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		ts, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		switch {
		case strings.Contains(line, "Stopping smart-proxy.service"):
			start = ts
		case strings.Contains(line, "Stopped smart-proxy.service"):
			end = ts
		}
	}
	if start == 0 || end == 0 {
		t.Fatalf("no Stopping/Stopped pair in the journal:\n%s", out)
	}
	return int64((end - start) * 1000), out
}

func TestBuggyBuildHangsUntilKilled(t *testing.T) {
	labtest.Need(t, tl)
	tl.SSH(t, 0, "systemctl restart smart-proxy.service && until /usr/local/bin/smart-proxy --check; do sleep 0.1; done; systemctl show -p TimeoutStopUSec smart-proxy.service; smart-proxy --version")
	ms, journal := stopMillis(t, 0)
	t.Logf("buggy build, TimeoutStopSec=3s: stop took %d ms", ms)
	if ms < 3000 {
		t.Errorf("buggy stop took %d ms, want >= 3000 (the timeout)", ms)
	}
	if !strings.Contains(journal, "State 'stop-sigterm' timed out. Killing.") {
		t.Errorf("journal lacks the timeout:\n%s", journal)
	}
}

func TestFixedBuildWithDropInStopsCleanly(t *testing.T) {
	labtest.Need(t, tl)
	// Stop the buggy build first: restarting it under the new drop-in would wait
	// out the new 20 s timeout instead of the lab's 3 s.
	tl.SSH(t, 1, "systemctl stop smart-proxy.service")
	install := exec.Command("ssh", append(lab.SSHArgs(tl.Config, tl.State.Hosts[1]),
		"cat > /usr/local/bin/smart-proxy.new && chmod 0755 /usr/local/bin/smart-proxy.new && mv /usr/local/bin/smart-proxy.new /usr/local/bin/smart-proxy")...)
	install.Stdin = strings.NewReader(string(smartproxy.Fixed))
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("install fixed build: %v %s", err, out)
	}
	dropin := strings.ReplaceAll(string(smartproxy.DropIn), "'", "")
	tl.SSH(t, 1, "mkdir -p /etc/systemd/system/smart-proxy.service.d && printf '%s' '"+dropin+"' > /etc/systemd/system/smart-proxy.service.d/override.conf && systemctl daemon-reload && systemctl start smart-proxy.service && until smart-proxy --check; do sleep 0.1; done")
	if got := tl.SSH(t, 1, "systemctl show -p TimeoutStopUSec -p KillMode smart-proxy.service; smart-proxy --version"); !strings.Contains(got, "TimeoutStopUSec=20s") || !strings.Contains(got, "KillMode=mixed") || !strings.Contains(got, "fixed") {
		t.Fatalf("drop-in or build not in effect: %s", got)
	}
	ms, journal := stopMillis(t, 1)
	t.Logf("fixed build + drop-in: stop took %d ms", ms)
	if ms >= 1000 {
		t.Errorf("fixed stop took %d ms, want < 1000", ms)
	}
	if !strings.Contains(journal, "Deactivated successfully") || strings.Contains(journal, "timed out") {
		t.Errorf("journal does not show a clean stop:\n%s", journal)
	}
}

func TestRebootIsARealCycle(t *testing.T) {
	labtest.Need(t, tl)
	const i = 2
	old := tl.SSH(t, i, "cat /proc/sys/kernel/random/boot_id")
	// The SSH call may die with the host; only the boot id tells it rebooted.
	_, _ = tl.TrySSH(i, "systemd-run --on-active=0.1 --timer-property=AccuracySec=10ms systemctl reboot")
	deadline := time.Now().Add(90 * time.Second)
	var now string
	for time.Now().Before(deadline) {
		if out, err := tl.TrySSH(i, "cat /proc/sys/kernel/random/boot_id; systemctl is-system-running --wait"); err == nil {
			if f := strings.Fields(out); len(f) == 2 && f[0] != old && f[1] == "running" {
				now = f[0]
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if now == "" {
		t.Fatalf("host did not come back with a new boot id within 90s")
	}
	prev := tl.SSH(t, i, "journalctl -b -1 -o export -n 1 --no-pager | sed -n 's/^_BOOT_ID=//p'; journalctl -b -1 -u smart-proxy.service --no-pager -o cat | tail -3")
	if !strings.HasPrefix(prev, strings.ReplaceAll(old, "-", "")) {
		t.Errorf("journalctl -b -1 is not the previous boot %s:\n%s", old, prev)
	}
	if !strings.Contains(prev, "Stopped smart-proxy.service") {
		t.Errorf("previous boot's journal lacks the shutdown stop:\n%s", prev)
	}
	if addr := tl.SSH(t, i, "ip -4 -o addr show eth0 | awk '{print $4}'"); !strings.HasPrefix(addr, tl.State.Hosts[i].Address+"/") {
		t.Errorf("address after reboot = %s, want %s", addr, tl.State.Hosts[i].Address)
	}
}

// TestZDownLeavesNothing runs last (tests run in file order): it halts the lab
// and checks the kernel holds nothing of it.
func TestZDownLeavesNothing(t *testing.T) {
	labtest.Need(t, tl)
	start := time.Now()
	if err := lab.Down(context.Background(), tl.Config, lab.DownOptions{HaltTimeout: 60 * time.Second}); err != nil {
		t.Fatal(err)
	}
	t.Logf("lab down took %.2fs", time.Since(start).Seconds())
	left, err := lab.Leftovers(tl.Config)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	// Cross-check with the tools an operator would use.
	if out, _ := exec.Command("pgrep", "-af", tl.Config.StateDir).Output(); len(out) > 0 {
		t.Errorf("processes left: %s", out)
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), tl.Config.StateDir) {
		t.Errorf("mounts left under %s", tl.Config.StateDir)
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), tl.Config.Bridge+"-") {
		t.Errorf("netns left: %s", out)
	}
	if out, _ := exec.Command("ip", "-o", "link").Output(); strings.Contains(string(out), tl.Config.Bridge) {
		t.Errorf("links left: %s", out)
	}
	// Down keeps per-host state: journals survive for the next up.
	if _, err := os.Stat(filepath.Join(tl.Config.StateDir, "hosts/h1/upper/var/log/journal")); err != nil {
		t.Errorf("down removed per-host state: %v", err)
	}
}
