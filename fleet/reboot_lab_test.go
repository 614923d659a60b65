package fleet_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/lab"
	"github.com/fleetfix/fleetfix/remote"
)

// journalStop reads, with journalctl's own short-unix timestamps, how long
// the unit's last stop in the previous boot took (Stopping -> Stopped).
func journalStop(t *testing.T, i int, unit string) time.Duration {
	t.Helper()
	stops := journalStops(t, i, unit)
	return stops[len(stops)-1]
}

// journalStops are the unit's stops in the previous boot, in order: each
// Stopping -> the first Stopped after it, with journalctl's short-unix
// timestamps.
func journalStops(t *testing.T, i int, unit string) []time.Duration {
	t.Helper()
	out := tl.SSH(t, i, "journalctl -b -1 -u "+unit+" -o short-unix --no-pager")
	var stops []time.Duration
	var start string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case strings.Contains(line, "Stopping "+unit):
			start = f[0]
		case start != "" && strings.Contains(line, "Stopped "+unit):
			stops = append(stops, micros(t, f[0])-micros(t, start))
			start = ""
		}
	}
	if len(stops) == 0 {
		t.Fatalf("no Stopping/Stopped of %s in the previous boot:\n%s", unit, out)
	}
	return stops
}

// micros parses "1764019545.895493" exactly (no float rounding).
func micros(t *testing.T, s string) time.Duration {
	sec, frac, _ := strings.Cut(s, ".")
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("timestamp %q", s)
	}
	return time.Duration(a)*time.Second + time.Duration(b)*time.Microsecond
}

func within(a, b, tol time.Duration) bool {
	d := a - b
	return d <= tol && d >= -tol
}

// The whole story on two hosts: a reboot gives them a previous shutdown with
// the hang; scan names the service; the rollout with reboot shows it fixed.
func TestScanRolloutRebootTimings(t *testing.T) {
	labtest.Need(t, tl)
	inv, _ := writeInventory(t, invSpec{hosts: []int{6, 7}, policy: "  canary: 1\n  batch: 100%\n"})
	ctx := context.Background()
	dial := fleet.RemoteDialer(inv, fleet.ConnectOptions{})
	rebootBuggyAndCheck(t, ctx, inv, dial)
	checkScanNamesTheHang(t, ctx, inv, dial)
	checkRolloutStopTimings(t, inv)
}

// rebootBuggyAndCheck reboots the hosts with the buggy build, for the
// "before" shutdown, and checks the hang and the reboot's timeline.
func rebootBuggyAndCheck(t *testing.T, ctx context.Context, inv *inventory.Inventory, dial fleet.Dialer) {
	t.Helper()
	ev := &events{}
	rb, err := fleet.Reboot(ctx, fleet.Options{Inventory: inv, Dial: dial, Reporter: ev})
	if err != nil {
		t.Fatal(err)
	}
	if statuses(rb) != "h7=ok h8=ok" {
		t.Fatalf("reboot: %s\n%s", statuses(rb), ev.text())
	}
	for _, h := range rb.Hosts {
		if h.Reboot == nil || h.Reboot.NewBootID == h.Reboot.OldBootID || len(h.Timings) != 1 {
			t.Fatalf("%s: reboot %+v timings %+v", h.Host, h.Reboot, h.Timings)
		}
		after := h.Timings[0].After
		if after == nil || !after.Killed || after.Duration < 3*time.Second || after.Duration > 5*time.Second {
			t.Errorf("%s: buggy stop at reboot = %+v, want SIGKILLed after about 3s", h.Host, after)
		}
		if h.Timings[0].Before != nil || h.Timings[0].BeforeNote == "" {
			t.Errorf("%s: a fresh host has no shutdown before, got %+v %q", h.Host, h.Timings[0].Before, h.Timings[0].BeforeNote)
		}
		// A hanging unit holds the shutdown, not sshd: the journal's sshd
		// stop comes long before the boot's end.
		if r := h.Reboot; r.SSHDStopped <= 0 || r.SSHDStopped > time.Second || r.Shutdown < 3*time.Second {
			t.Errorf("%s: sshd stopped %s, boot ended %s after the request: want sshd within a second, the end after the hang", h.Host, r.SSHDStopped, r.Shutdown)
		}
		t.Logf("%s (buggy build) reboot: journal: sshd stopped %s, boot ended %s after the request, login %s after sshd; controller: down %s, back %s, active %s",
			h.Host, h.Reboot.SSHDStopped, h.Reboot.Shutdown, h.Reboot.Noticed, h.Reboot.Down, h.Reboot.Back, h.Reboot.Active)
	}
}

// checkScanNamesTheHang checks that scan names the demo service as
// SIGKILLed after about 3 s, with the settings that allowed it, beside
// rule-proxy, the lab's other hanging service.
func checkScanNamesTheHang(t *testing.T, ctx context.Context, inv *inventory.Inventory, dial fleet.Dialer) {
	t.Helper()
	res := fleet.Scan(ctx, fleet.ScanOptions{Inventory: inv, Dial: dial})
	for i, r := range res {
		if r.Err() != nil || len(r.Units) == 0 {
			t.Fatalf("scan %s: %v %+v", r.Host, r.Err(), r)
		}
		// rule-proxy hangs alike: either may be the slowest.
		u := r.Units[0]
		if len(r.Units) > 1 && u.Unit != "smart-proxy.service" {
			u = r.Units[1]
		}
		if u.Unit != "smart-proxy.service" || !u.Killed || u.Result != "timeout" || u.TimeoutStop != "3s" || u.KillMode != "control-group" {
			t.Errorf("scan %s: smart-proxy not among the two slowest units: %+v", r.Host, u)
		}
		if j := journalStop(t, 6+i, "smart-proxy.service"); !within(u.Duration, j, time.Millisecond) {
			t.Errorf("scan %s: stop %s, the journal says %s", r.Host, u.Duration, j)
		}
	}
}

// checkRolloutStopTimings rolls the fix out, with its reboot, and checks
// the stop timings before -> after, per host and unit, against the journal.
func checkRolloutStopTimings(t *testing.T, inv *inventory.Inventory) {
	t.Helper()
	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s) != "h7=ok h8=ok" {
		t.Fatalf("rollout: %s\n%s", statuses(s), ev.text())
	}
	for i, h := range s.Hosts {
		if len(h.Timings) != 1 || h.Reboot == nil {
			t.Fatalf("%s: no timings %+v", h.Host, h)
		}
		tm := h.Timings[0]
		if tm.Before == nil || !tm.Before.Killed || tm.Before.Duration < 3*time.Second {
			t.Errorf("%s before: %+v %s", h.Host, tm.Before, tm.BeforeNote)
		}
		if tm.After == nil || tm.After.Killed || tm.After.Result != "clean" || tm.After.Duration >= time.Second {
			t.Errorf("%s after: %+v %s", h.Host, tm.After, tm.AfterNote)
		}
		if tm.After != nil {
			if j := journalStop(t, 6+i, "smart-proxy.service"); !within(tm.After.Duration, j, time.Millisecond) {
				t.Errorf("%s: after %s, the journal says %s", h.Host, tm.After.Duration, j)
			}
			t.Logf("%s: smart-proxy stop %s -> %s; reboot down %s, back %s, active %s, sshd-ready-to-noticed %s",
				h.Host, fleet.DescribeStop(tm.Before, ""), fleet.DescribeStop(tm.After, ""), h.Reboot.Down, h.Reboot.Back, h.Reboot.Active, h.Reboot.Noticed)
		}
		if !strings.Contains(ev.text(), h.Host+" journal done smart-proxy.service: stop ") {
			t.Errorf("%s: the journal step's event does not report the timings:\n%s", h.Host, ev.text())
		}
	}
}

func TestHostThatNeverComesBack(t *testing.T) {
	labtest.Need(t, tl)
	inv, _ := writeInventory(t, invSpec{hosts: []int{8, 9}, settings: "        TimeoutStopSec: 5s\n",
		policy: "  canary: 1\n  timeouts:\n    reboot_up: 8s\n"})
	h10before := fileState(t, 9, "/usr/local/bin/smart-proxy")
	ctx := context.Background()
	// Pull the plug on h9 once its reboot has taken it down.
	ev := &events{}
	stopped := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			if strings.Contains(ev.text(), "h9 reboot start") {
				addr := net.JoinHostPort(tl.State.Hosts[8].Address, "22")
				for time.Now().Before(deadline) {
					if sshdGone(addr) {
						stopped <- lab.StopHost(ctx, tl.Config, "h9", 5*time.Second)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		stopped <- errors.New("h9 never started its reboot")
	}()
	s, err := fleet.Rollout(ctx, fleet.Options{Inventory: inv, Dial: fleet.RemoteDialer(inv, fleet.ConnectOptions{}), Reporter: ev})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Bring h9 back for whoever comes next.
		if _, err := lab.Up(context.Background(), tl.Config, tl.UpOptions); err != nil {
			t.Errorf("restart the lab: %v", err)
		}
	})
	if statuses(s) != "h9=failed h10=not-started" || !s.Halted {
		t.Fatalf("%s halted=%v\n%s", statuses(s), s.Halted, ev.text())
	}
	var he *fleet.HostError
	if !errors.As(s.Hosts[0].Err(), &he) || he.Host != "h9" || he.Step != fleet.StepReboot || !strings.Contains(he.Error(), "did not come back within 8s") {
		t.Errorf("error: %v", s.Hosts[0].Err())
	}
	if got := fileState(t, 9, "/usr/local/bin/smart-proxy"); got != h10before {
		t.Errorf("h10 was touched: %s -> %s", h10before, got)
	}
}

func TestHostKeyChangedAcrossReboot(t *testing.T) {
	labtest.Need(t, tl)
	// A unit that makes a new host key at every boot, before sshd starts.
	tl.SSH(t, 10, `cat > /etc/systemd/system/rotate-hostkey.service <<'UNIT'
[Unit]
Description=test: a new SSH host key at every boot
Before=ssh.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub; ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key'
[Install]
WantedBy=multi-user.target
UNIT
systemctl enable --quiet rotate-hostkey.service`)
	inv, _ := writeInventory(t, invSpec{hosts: []int{10}})
	ev := &events{}
	s, err := fleet.Reboot(context.Background(), fleet.Options{Inventory: inv, Dial: fleet.RemoteDialer(inv, fleet.ConnectOptions{TrustOnFirstUse: true}), Reporter: ev})
	if err != nil {
		t.Fatal(err)
	}
	if statuses(s) != "h11=failed" || s.Hosts[0].Step != fleet.StepReboot {
		t.Fatalf("%s at %s\n%s", statuses(s), s.Hosts[0].Step, ev.text())
	}
	var hk *remote.HostKeyError
	if !errors.As(s.Hosts[0].Err(), &hk) || hk.Unknown {
		t.Errorf("want a changed-key HostKeyError, got %v", s.Hosts[0].Err())
	}
	// It did come back: the lab's own check, with the old key, is refused too.
	if _, err := tl.TrySSH(10, "true"); err == nil {
		t.Error("the host still presents its old key")
	}
}

// sshdGone reports whether nothing listens on addr any more: the host
// refuses the connection, as a host whose reboot is under way does. A slow
// answer is not that: on a busy machine a socket-activated sshd (systemd
// accepting for it) can take longer than a probe's patience, and a test
// that took it for the reboot would act before the reboot was issued.
func sshdGone(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	_ = c.Close()
	return false
}
