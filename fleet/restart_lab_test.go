package fleet_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
)

// captureRestart keeps, when FLEETFIX_CAPTURE names a directory, host i's
// PID 1 records of unit in the previous boot as the restart-journal script
// prints them: journal/testdata/restart's goldens come from there.
func captureRestart(t *testing.T, i int, unit, name string) {
	dir := os.Getenv("FLEETFIX_CAPTURE")
	if dir == "" {
		return
	}
	out := tl.SSH(t, i, "journalctl -b -1 --output=json --output-fields=MESSAGE,MESSAGE_ID,UNIT,JOB_ID,JOB_TYPE,JOB_RESULT,UNIT_RESULT,INVOCATION_ID,CODE_FUNC,_PID,_SOURCE_REALTIME_TIMESTAMP --no-pager --quiet _PID=1 UNIT="+unit)
	if err := os.WriteFile(filepath.Join(dir, name+".jsonl"), []byte(out+"\n"), 0o644); err != nil {
		t.Error(err)
	}
}

// The buggy build hangs on SIGTERM (its pooled upstream connections stay
// parked: the upstream is not restarted). With old_stop_timeout 1s the
// restart SIGKILLs it after about 1 s instead of waiting out the new
// TimeoutStopSec=20s, and the journal's record of that restart is the
// before: SIGKILLed by fleetfix, with the 2 pooled connections in flight.
func TestRestartBoundsTheOldBuild(t *testing.T) {
	labtest.Need(t, tl)
	inv, _ := writeInventory(t, invSpec{hosts: []int{11}, policy: "  canary: 1\n",
		restart: "    restart:\n      old_stop_timeout: 1s\n"})
	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s) != "h12=ok" {
		t.Fatalf("rollout: %s\n%s", statuses(s), ev.text())
	}
	h := s.Hosts[0]
	if h.RestartTime < time.Second || h.RestartTime > 3*time.Second {
		t.Errorf("restart took %s, want about 1s (not the 20s TimeoutStopSec)", h.RestartTime)
	}
	if !strings.Contains(ev.text(), "h12 restart done smart-proxy.service active and healthy in ") || !strings.Contains(ev.text(), "old build SIGKILLed by fleetfix after 1s") {
		t.Errorf("the restart does not say it SIGKILLed the old build:\n%s", ev.text())
	}
	if len(h.Timings) != 1 {
		t.Fatalf("timings %+v", h.Timings)
	}
	tm := h.Timings[0]
	b := tm.Before
	if b == nil || !b.Killed || !b.KilledOnRequest || b.Duration < time.Second || b.Duration > 2*time.Second {
		t.Fatalf("before (the restart's stop): %+v %s", b, tm.BeforeNote)
	}
	if j := journalStops(t, 11, "smart-proxy.service")[0]; !within(b.Duration, j, time.Millisecond) {
		t.Errorf("before %s, the journal says %s", b.Duration, j)
	}
	if tm.BeforeInFlight == nil || *tm.BeforeInFlight != 2 {
		t.Errorf("in flight at the restart: %v, want the pool's 2", tm.BeforeInFlight)
	}
	if tm.After == nil || tm.After.Killed || tm.After.Result != "clean" {
		t.Errorf("after: %+v %s", tm.After, tm.AfterNote)
	} else if j := journalStop(t, 11, "smart-proxy.service"); !within(tm.After.Duration, j, time.Millisecond) {
		t.Errorf("after %s, the journal says %s", tm.After.Duration, j)
	}
	if tm.InFlight == nil {
		t.Errorf("in flight at the reboot: not counted")
	}
	if (tm.Previous == nil) == (tm.PreviousNote == "") || tm.Previous != nil && tm.PreviousBoot == "" {
		t.Errorf("previous boot's shutdown %+v, boot %q, note %q: want a figure labelled with its boot, or a note", tm.Previous, tm.PreviousBoot, tm.PreviousNote)
	}
	t.Logf("h12: restart %s; stop %s -> %s; previous: %s", h.RestartTime,
		fleet.DescribeInFlight(tm.Before, tm.BeforeNote, tm.BeforeInFlight), fleet.DescribeInFlight(tm.After, tm.AfterNote, tm.InFlight), fleet.DescribePrevious(tm))
	captureRestart(t, 11, "smart-proxy.service", "bounded-kill")
	rb, ev := rollback(t, inv, inv.Hosts, fleet.ConnectOptions{})
	if statuses(rb) != "h12=rolled-back" {
		t.Fatalf("rollback: %s\n%s", statuses(rb), ev.text())
	}

	// Rolled back, then out again at once: the previous boot's shutdown
	// stopped the fixed build, cleanly. The before is still the buggy
	// build's, measured at the restart, and that clean figure is flagged as
	// the first run's doing.
	time.Sleep(time.Second) // a new run id
	s2, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s2) != "h12=ok" || len(s2.Hosts[0].Timings) != 1 {
		t.Fatalf("second rollout: %s\n%s", statuses(s2), ev.text())
	}
	tm = s2.Hosts[0].Timings[0]
	if tm.Before == nil || !tm.Before.KilledOnRequest {
		t.Errorf("second rollout's before: %+v %s", tm.Before, tm.BeforeNote)
	}
	if tm.Previous == nil || tm.Previous.Killed || tm.PreviousChangedBy != s.RunID {
		t.Errorf("second rollout's previous: %+v changed by %q, want the first run's clean stop flagged with %s", tm.Previous, tm.PreviousChangedBy, s.RunID)
	}
	t.Logf("h12 again: %s; previous: %s", fleet.DescribeInFlight(tm.Before, tm.BeforeNote, tm.BeforeInFlight), fleet.DescribePrevious(tm))
	if rb, ev := rollback(t, inv, inv.Hosts, fleet.ConnectOptions{}); statuses(rb) != "h12=rolled-back" {
		t.Fatalf("rollback: %s\n%s", statuses(rb), ev.text())
	}
}

// A new build that does not start, behind an old one that takes 12 s to
// stop: the restart waits the old stop out, then reports what the health
// check saw, never a deadline (a restart deadline of health timeout + 10 s
// alone would expire first).
func TestFailingBuildBehindASlowOldOne(t *testing.T) {
	labtest.Need(t, tl)
	broken := []byte("#!/bin/sh\necho 'smart-proxy: cannot start' >&2\nexit 1\n")
	// on_failure: stop leaves it failed, for the rollback by hand below.
	inv, _ := writeInventory(t, invSpec{hosts: []int{12}, artifact: broken, policy: "  canary: 1\n  reboot: false\n  on_failure: stop\n",
		settings: "        TimeoutStopSec: 12s\n", health: "      tcp: 127.0.0.1:8080\n      timeout: 3s\n"})
	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s) != "h13=failed" || s.Hosts[0].Step != fleet.StepRestart {
		t.Fatalf("%s at %s\n%s", statuses(s), s.Hosts[0].Step, ev.text())
	}
	msg := s.Hosts[0].Error
	if !strings.Contains(msg, "smart-proxy.service not healthy 3s after start: unit failed (exit 1)") || strings.Contains(msg, "deadline") {
		t.Errorf("restart failure %q: want the health check's finding", msg)
	}
	if s.Hosts[0].Duration < 12*time.Second {
		t.Errorf("failed after %s: the old build's 12 s stop was not waited out", s.Hosts[0].Duration)
	}
	rb, ev := rollback(t, inv, inv.Hosts, fleet.ConnectOptions{})
	if statuses(rb) != "h13=rolled-back" {
		t.Fatalf("rollback: %s\n%s", statuses(rb), ev.text())
	}
	if got := tl.SSH(t, 12, "systemctl is-active smart-proxy.service; smart-proxy --version"); got != "active\nsmart-proxy 1.0.0 (buggy)" {
		t.Errorf("h13 after rollback: %q", got)
	}
}
