package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/jsonl"
)

// TestScanSuggestOnLab: scan --suggest on the lab's hanging units writes
// services: entries that plan accepts with the lab inventory's hosts.
// scan and plan change nothing; the reboot, only when the journal has no
// hung stop on record yet, is the one every lab test may find done.
func TestScanSuggestOnLab(t *testing.T) {
	labtest.Need(t, tl)
	inv := tl.Config.InventoryFile()
	state := []string{"XDG_STATE_HOME=" + t.TempDir()}
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
