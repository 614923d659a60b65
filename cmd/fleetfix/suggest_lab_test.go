package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/jsonl"
)

// TestScanSuggestOnLab: scan --suggest on the lab's hanging units writes
// services: entries that plan accepts with the lab inventory's hosts, and
// whose rollout, its artifact TODOs filled in with the fixed builds, fixes
// the stops (before -> after); the host is rolled back at the end.
func TestScanSuggestOnLab(t *testing.T) {
	labtest.Need(t, tl)
	inv := tl.Config.InventoryFile()
	state := []string{"XDG_STATE_HOME=" + t.TempDir()}
	putBackOnFailure(t, state, inv)
	if !lastShutdownHung(t, state, inv) {
		t.Log("no hung stop on record: rebooting the lab host first")
		if out, stderr, code := fleetfix(t, state, "reboot", "-i", inv, "--all"); code != 0 {
			t.Fatalf("reboot: exit %d\n%s%s", code, out, stderr)
		}
	}
	fix := filepath.Join(t.TempDir(), "inventory-fix.yaml")
	out, stderr, code := fleetfix(t, state, "scan", inv, "--suggest="+fix)
	if code != 0 || !strings.Contains(stderr, "wrote "+fix) {
		t.Fatalf("scan --suggest: exit %d\n%s%s", code, out, stderr)
	}
	b, err := os.ReadFile(fix)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"#   smart-proxy.service: on 1 host; SIGKILLed on 1;", "  - unit: smart-proxy.service\n", "TimeoutStopSec: 3s", "KillMode: mixed", "health:\n      tcp: 127.0.0.1:"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in the suggestion:\n%s", want, text)
		}
	}
	out, stderr, code = fleetfix(t, state, "plan", "--hosts-from", inv, fix)
	if code != 0 {
		t.Fatalf("plan of the suggestion: exit %d\n%s%s\n%s", code, out, stderr, text)
	}
	if !strings.Contains(out, "smart-proxy.service") {
		t.Errorf("plan does not show smart-proxy:\n%s", out)
	}
	t.Logf("suggestion:\n%s", text)

	// The operator's part: the fixed builds the suggestion leaves as TODOs.
	lab, err := inventory.Load(inv)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range lab.Services {
		a := s.Artifacts[0]
		todo := "    # artifacts: TODO the fixed build, if the fix is more than this drop-in:\n    #   - src: TODO/local/path/of/the/fixed/build\n    #     dest: " + a.Dest + "\n    #     mode: \"0755\"\n"
		if !strings.Contains(text, todo) {
			t.Fatalf("no artifact TODO for %s in the suggestion", a.Dest)
		}
		text = strings.Replace(text, todo, "    artifacts:\n      - src: "+a.Src+"\n        dest: "+a.Dest+"\n        mode: \"0755\"\n", 1)
	}
	text = strings.ReplaceAll(text, "    # restart:\n    #   old_stop_timeout: 5s\n", "    restart:\n      old_stop_timeout: 1s\n")
	if err := os.WriteFile(fix, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = fleetfix(t, state, "rollout", "--hosts-from", inv, fix, "-o", "json")
	if code != 0 {
		t.Fatalf("rollout of the suggestion: exit %d\n%s%s", code, out, stderr)
	}
	var sum jsonl.Summary
	lastJSON(t, out, &sum)
	if len(sum.Hosts) != 1 || len(sum.Hosts[0].Timings) != len(lab.Services) {
		t.Fatalf("rollout summary: %+v", sum)
	}
	for _, tm := range sum.Hosts[0].Timings {
		if tm.Before == nil || tm.After == nil || !tm.Before.Killed || tm.After.Killed || tm.After.Result != "clean" {
			t.Errorf("%s: before %+v -> after %+v", tm.Unit, tm.Before, tm.After)
			continue
		}
		t.Logf("%s stop: %.0f ms (killed) -> %.0f ms (%s)", tm.Unit, tm.Before.StopMS, tm.After.StopMS, tm.After.Result)
	}
	if out, stderr, code := fleetfix(t, state, "rollback", "-i", inv, "--all"); code != 0 {
		t.Errorf("rollback: exit %d\n%s%s", code, out, stderr)
	}
}

// lastShutdownHung reports whether the lab host's last shutdown has
// smart-proxy SIGKILLed at its stop timeout.
func lastShutdownHung(t *testing.T, state []string, inv string) bool {
	t.Helper()
	out, _, code := fleetfix(t, state, "scan", inv, "-o", "json")
	if code != 0 {
		return false
	}
	var scan jsonl.Scan
	lastJSON(t, out, &scan)
	return len(scan.Hosts) == 1 && slices.ContainsFunc(scan.Hosts[0].Units, func(u jsonl.ScanUnit) bool {
		return u.Unit == "smart-proxy.service" && u.Killed && !u.KilledOnRequest
	})
}
