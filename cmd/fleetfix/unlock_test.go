package main

import (
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/jsonl"
)

// TestUnlockOutput: unlock reports through the output format: plain, a
// line per host; json, the events and an unlock summary; a host it could
// not reach exits 1, a format it does not know exits 2.
func TestUnlockOutput(t *testing.T) {
	inv := tinyInventory(t, "127.0.0.1", 1) // nothing listens: refused at once
	state := []string{"XDG_STATE_HOME=" + t.TempDir()}
	out, stderr, code := fleetfix(t, state, "unlock", "-i", inv, "web1")
	if code != exitFailedHosts || !strings.HasPrefix(out, "web1: connect: ") || strings.Count(out, "\n") != 1 {
		t.Errorf("plain: exit %d\n%s%s", code, out, stderr)
	}
	out, stderr, code = fleetfix(t, state, "unlock", "-i", inv, "web1", "-o", "json")
	var sum jsonl.Summary
	lastJSON(t, out, &sum)
	if code != exitFailedHosts || sum.Command != "unlock" || len(sum.Hosts) != 1 || sum.Hosts[0].Status != "failed" || sum.Hosts[0].Step != "connect" {
		t.Errorf("json: exit %d, summary %+v\n%s", code, sum, stderr)
	}
	if _, stderr, code = fleetfix(t, state, "unlock", "-i", inv, "web1", "-o", "xml"); code != exitUsage || !strings.Contains(stderr, "--output") {
		t.Errorf("-o xml: exit %d, %s", code, stderr)
	}
}
