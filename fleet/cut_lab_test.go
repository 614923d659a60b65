package fleet_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/inventory"
)

// cutFor takes lab host i off the network for d once ev shows its restart
// starting: its port on the lab bridge (the veth the lab names
// <bridge>-<host>) goes down, so every packet of every connection is
// dropped, as on a cut link, and comes up again after d. It returns when
// the link is up again, with when it went down; a link left down by a
// failed test is brought up in t.Cleanup.
func cutFor(t *testing.T, i int, d time.Duration, ev *events) func() (time.Time, error) {
	t.Helper()
	name := tl.State.Hosts[i].Name
	veth := tl.Config.Bridge + "-" + name
	link := func(state string) error {
		if out, err := exec.Command("ip", "link", "set", veth, state).CombinedOutput(); err != nil {
			return fmt.Errorf("ip link set %s %s: %w: %s", veth, state, err, out)
		}
		return nil
	}
	t.Cleanup(func() { _ = link("up") })
	type cut struct {
		at  time.Time
		err error
	}
	done := make(chan cut, 1)
	go func() {
		for deadline := time.Now().Add(time.Minute); !strings.Contains(ev.text(), name+" restart start"); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				done <- cut{err: context.DeadlineExceeded}
				return
			}
		}
		at := time.Now()
		if err := link("down"); err != nil {
			done <- cut{at, err}
			return
		}
		time.Sleep(d)
		done <- cut{at, link("up")}
	}()
	return func() (time.Time, error) {
		c := <-done
		return c.at, c.err
	}
}

// A connection cut for 45 s in the middle of a run (during the restart),
// then restored: the run fails the host cleanly, having waited for the
// connection to record it (the manifest says failed, not running; the
// lock is released; every file is whole, the new build's), and the next
// rollout resumes that run and completes it. h13, shared with
// restart_lab_test.go: both leave it rolled back.
func TestConnectionCutMidRunThenResume(t *testing.T) {
	labtest.Need(t, tl)
	const host, cut = 12, 45 * time.Second
	inv, _ := writeInventory(t, invSpec{hosts: []int{host}, settings: "        TimeoutStopSec: 5s\n", policy: "  reboot: false\n"})
	t.Cleanup(func() {
		if t.Failed() {
			_, _ = rollback(t, inv, nil, fleet.ConnectOptions{})
		}
	})
	before := fileState(t, host, labBin)
	start := time.Now()
	ev := &events{}
	waitCut := cutFor(t, host, cut, ev)
	s, err := fleet.Rollout(context.Background(), fleet.Options{Inventory: inv, Dial: fleet.RemoteDialer(inv, fleet.ConnectOptions{}), Reporter: ev, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cutAt, err := waitCut()
	if err != nil {
		t.Fatalf("cut the link: %v\n%s", err, ev.text())
	}
	h := s.Hosts[0]
	if h.Status != fleet.StatusFailed || h.Step != fleet.StepRestart {
		t.Fatalf("h13 after the cut: %s at %s: %s\n%s", h.Status, h.Step, h.Error, ev.text())
	}
	t.Logf("the run ended %s after the cut began (cut %s): %s", time.Since(cutAt).Round(100*time.Millisecond), cut, h.Error)
	checkCutHostRecorded(t, host, inv, s.RunID)

	again, aev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(again) != "h13=ok" || again.Hosts[0].RunID != s.RunID {
		t.Fatalf("the rollout after the cut: %s, run %s: want run %s resumed and ok\n%s", statuses(again), again.Hosts[0].RunID, s.RunID, aev.text())
	}
	if got := tl.SSH(t, host, "grep -c '\"state\": \"complete\"' /var/lib/fleetfix/runs/"+s.RunID+".json; systemctl is-active smart-proxy.service; smart-proxy --version"); got != "1\nactive\nsmart-proxy 1.0.1 (fixed)" {
		t.Errorf("after the resume: %q, want run %s complete, the new build active", got, s.RunID)
	}
	if rb, rev := rollback(t, inv, nil, fleet.ConnectOptions{}); statuses(rb) != "h13=rolled-back" || fileState(t, host, labBin) != before {
		t.Errorf("rollback: %s, build %s, want %s\n%s", statuses(rb), fileState(t, host, labBin), before, rev.text())
	}
	t.Logf("whole test: %s", time.Since(start).Round(100*time.Millisecond))
}

// checkCutHostRecorded checks what a run cut off from lab host i left
// there: its manifest failed, no lock, no upload temporary, every file
// the new one, whole.
func checkCutHostRecorded(t *testing.T, i int, inv *inventory.Inventory, runID string) {
	t.Helper()
	svc := inv.Services[0]
	dropIn := sha256.Sum256(svc.DropIn.Render())
	script := "grep -o '\"state\": \"[a-z-]*\"' /var/lib/fleetfix/runs/" + runID + ".json; ls -d /var/lib/fleetfix/lock 2>&1; " +
		"ls -a /usr/local/bin /etc/systemd/system/smart-proxy.service.d | grep -c fleetfix-tmp"
	want := "\"state\": \"failed\"\nls: cannot access '/var/lib/fleetfix/lock': No such file or directory\n0"
	if got, _ := tl.TrySSH(i, script); got != want {
		t.Errorf("after the cut: %q, want the manifest failed, no lock, no temporary", got)
	}
	if got, want := fileState(t, i, labBin), sha(readFile(t, svc.Artifacts[0].Src))+" 755 root:root"; got != want {
		t.Errorf("build after the cut: %s, want the new one whole: %s", got, want)
	}
	if got, want := fileState(t, i, labDropIn), hex.EncodeToString(dropIn[:])+" 644 root:root"; got != want {
		t.Errorf("drop-in after the cut: %s, want %s", got, want)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
