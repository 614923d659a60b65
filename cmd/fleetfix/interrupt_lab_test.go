package main

import (
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/jsonl"
)

// A controller SIGKILLed while the host restarts its unit leaves the lock,
// a manifest that says running and (here planted) a temporary file of its
// upload: the next rollout takes the lock over (its controller's process
// is gone), removes the run's leftovers, resumes the run and ends it, with
// no manual step.
func TestCLIRolloutAfterControllerKilledMidRestart(t *testing.T) {
	labtest.Need(t, tl)
	inv := quickStopInventory(t)
	state := []string{"XDG_STATE_HOME=" + t.TempDir()}
	putBackOnFailure(t, state, inv)

	cmd, ev := startRollout(t, state, inv, "--no-reboot")
	killed := ev.until(isEvent(fleet.StepRestart, fleet.PhaseStart)) && cmd.Process.Kill() == nil
	_ = cmd.Wait() // killed: its status says so
	if !killed {
		t.Fatal("the rollout ended before its restart step")
	}
	runID := ev.runID
	if owner := tl.SSH(t, 0, "cat /var/lib/fleetfix/lock/owner"); !strings.Contains(owner, "run "+runID) {
		t.Fatalf("lock owner %q, want run %s's", owner, runID)
	}
	tmp := "/usr/local/bin/.smart-proxy.fleetfix-tmp-" + runID + "-0123456789abcdef"
	other := "/usr/local/bin/.smart-proxy.fleetfix-tmp-20000101_000000-0123456789abcdef"
	tl.SSH(t, 0, "echo partial > "+tmp+" && echo other > "+other)

	stdout, stderr, code := fleetfix(t, state, "rollout", inv, "-o", "json", "--no-reboot")
	if code != 0 {
		t.Fatalf("rollout after the kill: exit %d\n%s%s", code, stdout, stderr)
	}
	var sum jsonl.Summary
	lastJSON(t, stdout, &sum)
	if h := sum.Hosts[0]; h.Status != "ok" || h.RunID != runID || sum.RunID == runID {
		t.Errorf("run %s, host %+v: want a run of its own resuming run %s, ok", sum.RunID, h, runID)
	}
	for _, want := range []string{"took over the host's lock from run " + runID, "is gone", "removed 1 temporary file(s)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in the output:\n%s", want, stdout)
		}
	}
	if got := tl.SSH(t, 0, "test ! -e /var/lib/fleetfix/lock && test ! -e "+tmp+" && test -e "+other+" && rm "+other+
		" && grep -c '\"state\": \"complete\"' /var/lib/fleetfix/runs/"+runID+".json"); got != "1" {
		t.Errorf("after the rollout: %q, want the lock and the run's temporary gone, another run's kept, the run complete", got)
	}
	if stdout, stderr, code := fleetfix(t, state, "rollback", "-i", inv, "--all"); code != 0 {
		t.Errorf("rollback: exit %d\n%s%s", code, stdout, stderr)
	}
}
