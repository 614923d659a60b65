package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/jsonl"
)

// lastJSON decodes the last line of JSON lines output.
func lastJSON(t *testing.T, out string, v any) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
}

// quickStopInventory is the lab's own inventory, with a shorter
// TimeoutStopSec than the 20 s fix so that stopping the buggy build during
// the restart takes 4 s, not 20.
func quickStopInventory(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(tl.Config.InventoryFile())
	if err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(inv, []byte(strings.ReplaceAll(string(b), "TimeoutStopSec: 20s", "TimeoutStopSec: 4s")), 0o644); err != nil {
		t.Fatal(err)
	}
	return inv
}

// putBackOnFailure rolls the lab host back when the test fails, so a failed
// test leaves the host as the next test expects it rather than failing it too.
func putBackOnFailure(t *testing.T, state []string, inv string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		if out, stderr, code := fleetfix(t, state, "rollback", "-i", inv, "--all", "--force"); code != 0 {
			t.Logf("putting the host back after the failure: exit %d\n%s%s", code, out, stderr)
		}
	})
}

// The operator's whole session with the binary: reboot (to have a shutdown
// with the hang on record), scan, rollout with its reboot, rollback; JSON
// and plain output.
func TestCLIScanRolloutRollbackOnLab(t *testing.T) {
	labtest.Need(t, tl)
	inv := quickStopInventory(t)
	state := []string{"XDG_STATE_HOME=" + t.TempDir()}
	putBackOnFailure(t, state, inv)

	out, stderr, code := fleetfix(t, state, "reboot", "-i", inv, "--all", "-o", "json")
	if code != 0 {
		t.Fatalf("reboot: exit %d\n%s%s", code, out, stderr)
	}
	var sum jsonl.Summary
	lastJSON(t, out, &sum)
	if !sum.OK || sum.Command != "reboot" || len(sum.Hosts) != 1 || sum.Hosts[0].Reboot == nil || len(sum.Hosts[0].Timings) != 2 {
		t.Fatalf("reboot summary: %+v", sum)
	}

	out, _, code = fleetfix(t, state, "scan", tl.Config.InventoryFile(), "-o", "json")
	var scan jsonl.Scan
	lastJSON(t, out, &scan)
	if code != 0 || len(scan.Hosts) != 1 || len(scan.Hosts[0].Units) == 0 {
		t.Fatalf("scan: exit %d %+v", code, scan)
	}
	// Both demo units hang alike: the two slowest stops are theirs.
	for _, u := range scan.Hosts[0].Units[:min(2, len(scan.Hosts[0].Units))] {
		if u.Unit != "smart-proxy.service" && u.Unit != "rule-proxy.service" || !u.Killed || u.StopMS < 3000 || u.TimeoutStop != "3s" {
			t.Errorf("scan: slow unit %+v", u)
		}
	}
	plain, _, _ := fleetfix(t, state, "scan", tl.Config.InventoryFile())
	if !strings.Contains(plain, "smart-proxy.service") || !strings.Contains(plain, "SIGKILLed") {
		t.Errorf("plain scan:\n%s", plain)
	}
	// --top 0 reports every unit of the shutdown, not the slowest 5; with
	// --fail-on-sigkill the demo units' SIGKILL is an exit 1.
	out, stderr, code = fleetfix(t, state, "scan", "-i", tl.Config.InventoryFile(), "--top", "0", "--fail-on-sigkill", "-o", "json")
	var every jsonl.Scan
	lastJSON(t, out, &every)
	if len(every.Hosts) != 1 {
		t.Fatalf("scan --top 0: %+v", every)
	}
	t.Logf("scan --top 0: %d unit(s), --top 5: %d", len(every.Hosts[0].Units), len(scan.Hosts[0].Units))
	if code != exitFailedHosts || !strings.Contains(stderr, "SIGKILLed on 1 host(s)") || len(every.Hosts[0].Units) <= len(scan.Hosts[0].Units) {
		t.Errorf("scan --top 0 --fail-on-sigkill: exit %d, %d unit(s) (--top 5: %d), stderr %q", code, len(every.Hosts[0].Units), len(scan.Hosts[0].Units), stderr)
	}

	out, stderr, code = fleetfix(t, state, "rollout", inv, "-o", "json")
	if code != 0 {
		t.Fatalf("rollout: exit %d\n%s%s", code, out, stderr)
	}
	lastJSON(t, out, &sum)
	h := sum.Hosts[0]
	if h.Status != "ok" || len(h.Timings) != 2 || h.Timings[0].Before == nil || h.Timings[0].After == nil {
		t.Fatalf("rollout summary: %+v", h)
	}
	before, after := h.Timings[0].Before, h.Timings[0].After
	// The lab's inventory bounds the buggy build's hang at the restart
	// (old_stop_timeout 1s): the before is that stop, SIGKILLed by fleetfix.
	if !before.Killed || !before.KilledOnRequest || before.StopMS < 1000 || after.Killed || after.Result != "clean" || after.StopMS >= 1000 {
		t.Errorf("before %+v -> after %+v", before, after)
	}
	t.Logf("smart-proxy stop: %.1f ms (killed=%v) -> %.1f ms (%s); reboot back in %.0f ms", before.StopMS, before.Killed, after.StopMS, after.Result, h.Reboot.BackMS)
	if _, err := os.Stat(filepath.Join(strings.TrimPrefix(state[0], "XDG_STATE_HOME="), "fleetfix", "runs", sum.RunID, "h1.json")); err != nil {
		t.Errorf("no local manifest: %v", err)
	}
	reportOfLabRun(t, state, inv, sum.RunID)

	out, stderr, code = fleetfix(t, state, "rollback", "-i", inv, "--all")
	if code != 0 || !strings.Contains(out, "rolled-back") {
		t.Errorf("rollback: exit %d\n%s%s", code, out, stderr)
	}
	// The reboot, the rollout and the rollback each stored their summary.
	stored, _ := filepath.Glob(filepath.Join(strings.TrimPrefix(state[0], "XDG_STATE_HOME="), "fleetfix", "runs", "*", "summary.json"))
	if md, _, _ := fleetfix(t, state, "report"); len(stored) != 3 || !strings.Contains(md, "# fleetfix rollback ") || !strings.Contains(md, "| h1 | - | rolled-back |") {
		t.Errorf("stored summaries %q; the latest:\n%s", stored, md)
	}
}

// reportOfLabRun renders the lab rollout runID's stored summary: from the
// state directory, and from the host (-i) with a state directory that has
// none.
func reportOfLabRun(t *testing.T, state []string, inv, runID string) {
	t.Helper()
	t0 := time.Now()
	md, stderr, code := fleetfix(t, state, "report", "--format", "md")
	if code != 0 || !strings.Contains(md, "# fleetfix rollout "+runID) || !strings.Contains(md, "| h1 | smart-proxy.service | ") ||
		!strings.Contains(md, "SIGKILLed by fleetfix → ") || !strings.Contains(md, "## Changes") {
		t.Errorf("report: exit %d\n%s%s", code, md, stderr)
	}
	t.Logf("fleetfix report:\n%s", md)
	fromHost, stderr, code := fleetfix(t, []string{"XDG_STATE_HOME=" + t.TempDir()}, "report", runID, "-i", inv)
	if code != 0 || fromHost != md {
		t.Errorf("report -i from the host: exit %d\n%s%s\nwant:\n%s", code, fromHost, stderr, md)
	}
	for format, want := range map[string]string{"html": "<svg class=\"chart\"", "junit": `<testcase name="smart-proxy.service" classname="fleetfix.h1"`} {
		if out, stderr, code := fleetfix(t, state, "report", runID, "--format", format); code != 0 || !strings.Contains(out, want) {
			t.Errorf("report --format %s: exit %d, no %s\n%s%s", format, code, want, out, stderr)
		}
	}
	t.Logf("report, local and from the host, in %s", time.Since(t0).Round(time.Millisecond))
}

// lab status shows each host's release, systemd version and sshd unit:
// the CLI's host is trixie, sshd by socket.
func TestLabStatusShowsTheRelease(t *testing.T) {
	labtest.Need(t, tl)
	out, stderr, code := fleetfix(t, nil, "lab", "status", "--state-dir", tl.Config.StateDir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("lab status: exit %d\n%s%s", code, out, stderr)
	}
	head, h1 := strings.Fields(lines[0]), strings.Fields(lines[1])
	if strings.Join(head, " ") != "HOST ADDRESS DISTRO SYSTEMD SSHD CONTAINER SSH" || len(h1) != 7 ||
		h1[0] != "h1" || h1[2] != "trixie" || !strings.HasPrefix(h1[3], "257.") || h1[4] != "ssh.socket" || h1[5] != "running" || h1[6] != "up" {
		t.Errorf("lab status:\n%s", out)
	}
}
