package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	smartproxy "github.com/fleetfix/fleetfix/examples/smart-proxy"
	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/jsonl"
	"github.com/fleetfix/fleetfix/lab"
)

// Helpers of the lab tests that fault a rollout of the binary: its host
// as a rollback must leave it, its events as it writes them, and the
// moment its host's reboot has taken sshd down.

// withPolicy is inventory inv with lines added to its rollout section
// (the last of the lab's inventory), written beside it.
func withPolicy(t *testing.T, inv, lines string) string {
	t.Helper()
	b, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\nrollout:\n") {
		t.Fatalf("%s has no rollout section", inv)
	}
	out := strings.TrimSuffix(inv, ".yaml") + "-policy.yaml"
	if err := os.WriteFile(out, append(b, lines...), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// hostFiles is what a rollback must restore on the lab host, byte for
// byte: each demo build and drop-in ("sha256 mode owner:group", or
// missing), and each unit's state and running version.
func hostFiles(t *testing.T) string {
	t.Helper()
	var script strings.Builder
	for _, p := range []string{smartproxy.ProxyPath, smartproxy.RulePath,
		"/etc/systemd/system/smart-proxy.service.d/override.conf", "/etc/systemd/system/rule-proxy.service.d/override.conf"} {
		fmt.Fprintf(&script, `p=%s; if [ -e "$p" ]; then echo "$p $(sha256sum < "$p" | cut -d' ' -f1) $(stat -c '%%a %%U:%%G' "$p")"; else echo "$p missing"; fi; `, p)
	}
	script.WriteString("systemctl is-active smart-proxy.service rule-proxy.service; smart-proxy --version; rule-proxy --version")
	return tl.SSH(t, 0, script.String())
}

// guardFiles lists the lab host's guard files and timers, and its lock.
const guardFiles = `ls /etc/systemd/system /etc/systemd/system/timers.target.wants /var/lib/fleetfix | grep fleetfix-guard; ` +
	`systemctl list-timers --all --no-legend 'fleetfix-guard-*' | grep -o 'fleetfix-guard-[^ ]*'; ls -d /var/lib/fleetfix/lock 2>/dev/null; true`

// startRollout starts `fleetfix rollout inv -o json` (and flags) and
// returns it with its events as they come.
func startRollout(t *testing.T, state []string, inv string, flags ...string) (*exec.Cmd, *events) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"rollout", inv, "-o", "json"}, flags...)...)
	cmd.Env = append(cmd.Environ(), state...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, newEvents(out)
}

// events reads a run's JSON lines.
type events struct {
	sc    *bufio.Scanner
	lines []string
	runID string
}

func newEvents(r io.Reader) *events {
	return &events{sc: bufio.NewScanner(r)}
}

// until reads events up to the first that match wants, and reports
// whether there was one.
func (ev *events) until(match func(jsonl.Event) bool) bool {
	for ev.sc.Scan() {
		ev.lines = append(ev.lines, ev.sc.Text())
		var e jsonl.Event
		if json.Unmarshal(ev.sc.Bytes(), &e) != nil {
			continue
		}
		if e.RunID != "" {
			ev.runID = e.RunID
		}
		if match(e) {
			return true
		}
	}
	return false
}

func (ev *events) text() string { return strings.Join(ev.lines, "\n") }

func isEvent(step fleet.Step, phase fleet.Phase) func(jsonl.Event) bool {
	return func(e jsonl.Event) bool { return e.Host == "h1" && e.Step == step && e.Phase == phase }
}

// waitSSHDown waits for the lab host's sshd to stop answering, as it does
// within a second of a reboot being issued.
func waitSSHDown(t *testing.T) {
	t.Helper()
	addr := net.JoinHostPort(tl.State.Hosts[0].Address, "22")
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		// Refused, not slow: a socket-activated sshd on a busy machine
		// can be slow to answer while nothing is rebooting.
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil && errors.Is(err, syscall.ECONNREFUSED) {
			return
		}
		if c != nil {
			_ = c.Close()
		}
	}
	t.Fatal("h1's sshd still answers a minute after its reboot started")
}

// The dead-man switch with a real controller: `fleetfix rollout`,
// SIGKILLed once its host's reboot has taken sshd down (the guard armed
// just before), leaves a host that puts itself back by itself,
// confirm_timeout after its boot: every file byte for byte, the old builds
// running, no guard, no lock. The next run, a rollback, says so and finds
// nothing to undo.
func TestCLIGuardRestoresAfterControllerKilled(t *testing.T) {
	labtest.Need(t, tl)
	inv := withPolicy(t, quickStopInventory(t), "  confirm_timeout: 5s\n")
	state := []string{"XDG_STATE_HOME=" + t.TempDir()}
	putBackOnFailure(t, state, inv)
	before := hostFiles(t)
	start := time.Now()
	cmd, ev := startRollout(t, state, inv)
	armed := ev.until(isEvent(fleet.StepGuard, fleet.PhaseDone)) && ev.until(isEvent(fleet.StepReboot, fleet.PhaseStart))
	if armed {
		waitSSHDown(t)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait() // killed: its status says so
	if !armed {
		t.Fatalf("the rollout ended before its guard and reboot:\n%s", ev.text())
	}
	killed, guard := time.Now(), "fleetfix-guard-"+ev.runID
	var record string
	for deadline := killed.Add(2 * time.Minute); record == "" && time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if out, err := tl.TrySSH(0, "cat /var/lib/fleetfix/runs/"+ev.runID+".restored"); err == nil {
			record = out
		}
	}
	if !strings.HasPrefix(record, "restored_at=") || !strings.Contains(record, "failed=0") {
		t.Fatalf("no restore record within 2 minutes of the kill: %q\n%s", record, tl.SSH(t, 0, "journalctl -b 0 -u "+guard+".service --no-pager; true"))
	}
	// The guard started confirm_timeout after the boot's first record, to
	// its timer's accuracy of a second.
	at := func(script string) float64 {
		f, err := strconv.ParseFloat(tl.SSH(t, 0, script+" -o short-unix --no-pager | head -n1 | cut -d' ' -f1"), 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if d := at("journalctl -b 0 -u "+guard+".service") - at("journalctl -b 0"); d < 4 || d > 7 {
		t.Errorf("the guard started %.1fs after the boot, want about confirm_timeout (5s)", d)
	}
	t.Logf("killed %s after the start; restore recorded %s after the kill: %s", killed.Sub(start).Round(100*time.Millisecond), time.Since(killed).Round(100*time.Millisecond), record)
	if got := hostFiles(t); got != before {
		t.Errorf("after the guard:\n%s\nwant\n%s", got, before)
	}
	if got := tl.SSH(t, 0, guardFiles+"; grep -o '\"state\": \"[a-z-]*\"' /var/lib/fleetfix/runs/"+ev.runID+".json"); got != `"state": "rolled-back"` {
		t.Errorf("after the guard: %q, want no guard, no lock, the run rolled back", got)
	}

	stdout, stderr, code := fleetfix(t, state, "rollback", "-i", inv, "--all", "-o", "json")
	var sum jsonl.Summary
	lastJSON(t, stdout, &sum)
	if code != 0 || sum.Hosts[0].Status != "unchanged" || !strings.Contains(stdout, "run "+ev.runID+" restored itself: restored by the guard at ") {
		t.Errorf("rollback after the guard: exit %d, %+v\n%s%s", code, sum.Hosts[0], stdout, stderr)
	}
	t.Logf("whole test: %s", time.Since(start).Round(100*time.Millisecond))
}

// A reboot that never returns: the host's power is pulled once its
// reboot took sshd down, and kept off, so the rollout fails it at the
// reboot, leaving it as it was then (the new files, the run's lock, its
// guard armed for the default 10m). Repaired, i.e. started again, it is
// put back by `fleetfix rollback` byte for byte, with no step on the host:
// the lock of the controller that has exited is taken over and the guard
// removed.
func TestCLIRollbackAfterARebootThatNeverReturned(t *testing.T) {
	labtest.Need(t, tl)
	inv := withPolicy(t, quickStopInventory(t), "  timeouts:\n    reboot_up: 8s\n")
	state := []string{"XDG_STATE_HOME=" + t.TempDir()}
	putBackOnFailure(t, state, inv)
	ctx := context.Background()
	t.Cleanup(func() {
		// Started again before the rollback of putBackOnFailure, whatever failed.
		if _, err := lab.Up(ctx, tl.Config, tl.UpOptions); err != nil {
			t.Errorf("start the lab again: %v", err)
		}
	})
	before := hostFiles(t)
	start := time.Now()
	cmd, ev := startRollout(t, state, inv)
	if !ev.until(isEvent(fleet.StepReboot, fleet.PhaseStart)) {
		_ = cmd.Wait()
		t.Fatalf("the rollout ended before its reboot:\n%s", ev.text())
	}
	waitSSHDown(t)
	if err := lab.StopHost(ctx, tl.Config, "h1", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	ev.until(func(jsonl.Event) bool { return false })
	_ = cmd.Wait()
	var sum jsonl.Summary
	lastJSON(t, ev.text(), &sum)
	if h := sum.Hosts[0]; h.Status != "failed" || h.Step != "reboot" || !strings.Contains(h.Error, "did not come back within 8s") {
		t.Fatalf("the rollout: %+v\n%s", h, ev.text())
	}
	t.Logf("the rollout failed the host after %s: %s", time.Since(start).Round(100*time.Millisecond), sum.Hosts[0].Error)

	repaired := time.Now()
	if _, err := lab.Up(ctx, tl.Config, tl.UpOptions); err != nil {
		t.Fatalf("repair h1: %v", err)
	}
	t.Logf("h1 repaired in %s; it has: %q", time.Since(repaired).Round(100*time.Millisecond), tl.SSH(t, 0, guardFiles))
	stdout, stderr, code := fleetfix(t, state, "rollback", "-i", inv, "--all", "-o", "json")
	lastJSON(t, stdout, &sum)
	if code != 0 || sum.Hosts[0].Status != "rolled-back" || !strings.Contains(stdout, "took over the host's lock from run "+ev.runID) {
		t.Fatalf("rollback after the repair: exit %d, %+v\n%s%s", code, sum.Hosts[0], stdout, stderr)
	}
	if got := hostFiles(t); got != before {
		t.Errorf("after the rollback:\n%s\nwant\n%s", got, before)
	}
	if got := tl.SSH(t, 0, guardFiles+"; grep -o '\"state\": \"[a-z-]*\"' /var/lib/fleetfix/runs/"+ev.runID+".json"); got != `"state": "rolled-back"` {
		t.Errorf("after the rollback: %q, want no guard, no lock, the run rolled back", got)
	}
	t.Logf("whole test: %s", time.Since(start).Round(100*time.Millisecond))
}
