package main

import (
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/jsonl"
)

// plantLock makes the lab host's lock look held by run 20261201_081502 of
// a controller on another machine, its lease ending expires seconds from
// now (negative: expired).
func plantLock(t *testing.T, expires string) {
	t.Helper()
	tl.SSH(t, 0, `mkdir -p -m 0700 /var/lib/fleetfix/lock && cd /var/lib/fleetfix/lock &&
echo 'run 20261201_081502 manifest 20261201_081502 controller ops9 pid 4242 start 1 boot x' > owner &&
now=$(date +%s) && echo "$((now - 60)) $((now + `+expires+`))" > lease`)
}

// A lock held by a controller on another machine: while its lease is
// live, a rollout is refused before any change, naming the holder and the
// remedy, and so is `fleetfix unlock` without --force; --force removes it.
// A lock whose lease expired is taken over by the rollout, with a warning.
func TestCLIUnlockAndExpiredLease(t *testing.T) {
	labtest.Need(t, tl)
	inv := quickStopInventory(t)
	state := []string{"XDG_STATE_HOME=" + t.TempDir()}
	putBackOnFailure(t, state, inv)
	t.Cleanup(func() { _, _ = tl.TrySSH(0, "rm -rf /var/lib/fleetfix/lock") })
	before := hostFiles(t)
	const holder = "locked by run 20261201_081502 (controller ops9 pid 4242, since "

	plantLock(t, "600")
	stdout, stderr, code := fleetfix(t, state, "rollout", inv, "--no-reboot", "-o", "json")
	var sum jsonl.Summary
	lastJSON(t, stdout, &sum)
	if h := sum.Hosts[0]; code == 0 || h.Status != "failed" || h.Step != "preflight" || !strings.HasPrefix(h.Error, holder) || !strings.HasSuffix(h.Error, "left); if it is gone: fleetfix unlock h1") {
		t.Errorf("rollout under a live lock: exit %d, %+v\n%s", code, h, stderr)
	}
	if got := hostFiles(t); got != before {
		t.Errorf("a refused rollout changed the host:\n%s\nwant\n%s", got, before)
	}
	stdout, _, code = fleetfix(t, state, "unlock", "h1", "-i", inv)
	if code == 0 || !strings.HasPrefix(stdout, "h1: "+holder) || !strings.Contains(stdout, "refused: its lease is live") {
		t.Errorf("unlock of a live lease: exit %d\n%s", code, stdout)
	}
	stdout, _, code = fleetfix(t, state, "unlock", "h1", "-i", inv, "--force")
	if code != 0 || !strings.Contains(stdout, ": removed") || tl.SSH(t, 0, "ls -d /var/lib/fleetfix/lock 2>/dev/null; true") != "" {
		t.Errorf("unlock --force: exit %d\n%s", code, stdout)
	}

	plantLock(t, "-5")
	stdout, stderr, code = fleetfix(t, state, "rollout", inv, "--no-reboot", "-o", "json")
	if code != 0 || !strings.Contains(stdout, "took over the host's lock from run 20261201_081502") || !strings.Contains(stdout, "its lease expired") {
		t.Errorf("rollout over an expired lease: exit %d\n%s%s", code, stdout, stderr)
	}
	if stdout, stderr, code := fleetfix(t, state, "rollback", "-i", inv, "--all"); code != 0 {
		t.Errorf("rollback: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := hostFiles(t); got != before {
		t.Errorf("after the rollback:\n%s\nwant\n%s", got, before)
	}
}
