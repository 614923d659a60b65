package fleet_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
)

// bastionOnly makes lab host i refuse logins from this machine (the lab
// gateway) but not from the other hosts, until the test ends: a run that
// reaches it did so through its bastion. dial reaches it at the end, to
// open it again.
func bastionOnly(t *testing.T, i int, dial func() (fleet.Host, error)) {
	t.Helper()
	gw := strings.TrimSuffix(tl.State.Hosts[0].Address, ".2") + ".1"
	tl.SSH(t, i, "printf 'DenyUsers *@"+gw+"\\n' > /etc/ssh/sshd_config.d/20-bastion-only.conf && systemctl reload ssh")
	t.Cleanup(func() {
		// Through a bastion that may still be rebooting (it reboots in
		// the test's own time).
		var h fleet.Host
		err := retry(2*time.Minute, func() (err error) { h, err = dial(); return err })
		if err != nil {
			t.Errorf("reopen %s: %v", tl.State.Hosts[i].Name, err)
			return
		}
		defer h.Close()
		if _, err := h.Run(context.Background(), "sh", "-c", "rm /etc/ssh/sshd_config.d/20-bastion-only.conf && systemctl reload ssh"); err != nil {
			t.Errorf("reopen %s: %v", tl.State.Hosts[i].Name, err)
			return
		}
		// sshd re-executes on its reload and refuses connections for a
		// moment: the next test finds the host open once it logs in.
		if err := retry(30*time.Second, func() error { _, err := tl.TrySSH(i, "true"); return err }); err != nil {
			t.Errorf("reopen %s: no direct login: %v", tl.State.Hosts[i].Name, err)
		}
	})
	if _, err := tl.TrySSH(i, "true"); err == nil {
		t.Fatalf("%s accepts direct logins: the test cannot show the bastion is used", tl.State.Hosts[i].Name)
	}
}

// TestFleetHostAsBastion: h1 is a fleet host and h5's bastion, named by
// proxy_jump alone. Listed after h5, h1 still reboots first, in a batch of
// its own, and h5 starts only once h1 is back.
func TestFleetHostAsBastion(t *testing.T) {
	labtest.Need(t, tl)
	inv, _ := writeInventory(t, invSpec{hosts: []int{4, 0}, hostExtra: map[int]string{4: "    proxy_jump: h1\n"},
		policy: "  canary: 0\n  batch: 100%\n"})
	// The reboot's lock leaves /var/lib/fleetfix behind; other tests take
	// these hosts as fleetfix never touched them.
	t.Cleanup(func() {
		for _, i := range []int{0, 4} {
			_, _ = tl.TrySSH(i, "rm -rf /var/lib/fleetfix")
		}
	})
	dial := fleet.RemoteDialer(inv, fleet.ConnectOptions{})
	bastionOnly(t, 4, func() (fleet.Host, error) { return dial(context.Background(), inv.Hosts[0]) })
	if got := fleet.Batches(inv, nil, inv.Hosts); !reflect.DeepEqual(got, [][]int{{1}, {0}}) {
		t.Fatalf("batches %v, want h1 then h5", got)
	}
	ev := &events{}
	s, err := fleet.Reboot(context.Background(), fleet.Options{Inventory: inv, Dial: dial, Reporter: ev})
	if err != nil {
		t.Fatal(err)
	}
	if statuses(s) != "h1=ok h5=ok" || s.Hosts[0].Batch != 1 || s.Hosts[1].Batch != 2 {
		t.Fatalf("reboot: %s, batches %d %d\n%s", statuses(s), s.Hosts[0].Batch, s.Hosts[1].Batch, ev.text())
	}
	for _, h := range s.Hosts {
		if h.Reboot == nil || h.Reboot.NewBootID == h.Reboot.OldBootID {
			t.Errorf("%s not rebooted: %+v", h.Host, h.Reboot)
		}
	}
	log := ev.text()
	if h1done, h5start := strings.Index(log, "h1 run done"), strings.Index(log, "h5 connect start"); h1done < 0 || h5start < h1done {
		t.Errorf("h5 started before h1 was back:\n%s", log)
	}
}

// TestBastionRebootsWithTheHostBehindIt: h5's bastion reboots while h5
// itself is down for its own reboot. Both are back within seconds; the jump
// connection, dead since the bastion's reboot, is dialed again and h5's
// reboot ends ok, not after reboot_up with "via jump host: EOF".
func TestBastionRebootsWithTheHostBehindIt(t *testing.T) {
	labtest.Need(t, tl)
	inv, _ := writeInventory(t, invSpec{hosts: []int{4},
		bastions: "  - name: jump\n    address: " + tl.State.Hosts[0].Address + "\n",
		defaults: "  proxy_jump: jump\n", policy: "  timeouts:\n    reboot_up: 60s\n"})
	dial := fleet.RemoteDialer(inv, fleet.ConnectOptions{})
	bastionOnly(t, 4, func() (fleet.Host, error) { return dial(context.Background(), inv.Hosts[0]) })
	// h5 may be back before its bastion, whose reboot the test starts once
	// h5 is down: the bastion's boot id is read once it answers again.
	bootID := func() string {
		var id string
		err := retry(2*time.Minute, func() (err error) { id, err = tl.TrySSH(0, "cat /proc/sys/kernel/random/boot_id"); return err })
		if err != nil {
			t.Fatalf("the bastion's boot id: %v: %s", err, id)
		}
		return id
	}
	before := bootID()
	ev := &events{}
	rebooted := make(chan error, 1)
	go func() { rebooted <- rebootWhenDown(ev, "h5", 4, 0) }()
	s, err := fleet.Reboot(context.Background(), fleet.Options{Inventory: inv, Dial: dial, Reporter: ev})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-rebooted; err != nil {
		t.Fatal(err)
	}
	if statuses(s) != "h5=ok" {
		t.Fatalf("reboot behind a rebooted bastion: %s: %v\n%s", statuses(s), s.Hosts[0].Err(), ev.text())
	}
	again := strings.Contains(ev.text(), "logging in again")
	t.Logf("h5 back %s after its reboot, its bastion rebooted meanwhile; logged in again after a lost connection: %v", s.Hosts[0].Reboot.Back, again)
	if bootID() == before {
		t.Error("the bastion did not reboot: the test shows nothing")
	}
}

// rebootWhenDown waits for host's reboot step, then for lab host i to stop
// answering on port 22, and then reboots lab host bastion.
func rebootWhenDown(ev *events, host string, i, bastion int) error {
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(ev.text(), host+" reboot start") {
		if time.Now().After(deadline) {
			return errors.New(host + " never started its reboot")
		}
		time.Sleep(20 * time.Millisecond)
	}
	addr := net.JoinHostPort(tl.State.Hosts[i].Address, "22")
	for time.Now().Before(deadline) {
		if sshdGone(addr) {
			// sshd is gone: the reboot is on. The bastion's is forced, so
			// that its connections end now, while the host is still down:
			// an orderly one can take longer than the host's boot.
			_, _ = tl.TrySSH(bastion, "systemctl --no-block --force reboot")
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New(host + " never went down")
}

// retry calls f until it succeeds or d has passed, and returns its last
// error.
func retry(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
