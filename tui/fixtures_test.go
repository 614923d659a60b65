package tui

import (
	"errors"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/journal"
)

// t0 is the fixtures' run start; every time is fixed so views are stable.
var t0 = time.Date(2026, 11, 24, 21, 30, 45, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

const runID = "20261124_213045"

var rows = []HostRow{{"h1", 0}, {"h2", 1}, {"h3", 2}}

// steps are a rollout's steps with the reboot.
var steps = fleet.Steps(fleet.Options{Inventory: &inventory.Inventory{Rollout: inventory.Policy{Reboot: true}}})

func changes(host string) []fleet.Change {
	return []fleet.Change{
		{Path: "/usr/local/bin/smart-proxy", Kind: "artifact", Unit: "smart-proxy.service", Existed: true,
			OldSHA256: "d2b36f0f8434aa2c9a1be61c7f1a2c3d4e5f60718293a4b5c6d7e8f901234567",
			NewSHA256: "3aa2a5da482a19ff0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f70819",
			OldMode:   "0755", NewMode: "0755", OldOwner: "root:root", NewOwner: "root:root",
			Backup: "/usr/local/bin/smart-proxy.bak." + runID},
		{Path: "/etc/systemd/system/smart-proxy.service.d/override.conf", Kind: "dropin", Unit: "smart-proxy.service",
			NewSHA256: "25cbef39ffda0011223344556677889900aabbccddeeff00112233445566778", NewMode: "0644", NewOwner: "root:root",
			CreatedDir: "/etc/systemd/system/smart-proxy.service.d",
			Diff:       "+[Service]\n+TimeoutStopSec=20s\n+KillMode=mixed\n+KillSignal=SIGTERM\n+FinalKillSignal=SIGKILL\n"},
	}
}

// planEvents is what a dry run reports: h1 and h2 to change, h3 (which
// runs rule-proxy too) already at the target.
func planEvents() []fleet.Event {
	var ev []fleet.Event
	for _, h := range []string{"h1", "h2"} {
		ev = append(ev,
			fleet.Event{Time: at(0), Host: h, Step: fleet.StepConnect, Phase: fleet.PhaseDone, Batch: -1, Duration: 40 * time.Millisecond},
			fleet.Event{Time: at(0.2), Host: h, Step: fleet.StepPreflight, Phase: fleet.PhaseDone, Batch: -1, Message: "2 file(s) to change", Changes: changes(h)},
			fleet.Event{Time: at(0.3), Host: h, Step: fleet.StepRun, Phase: fleet.PhaseInfo, Batch: -1, Message: "would run: systemctl daemon-reload"},
			fleet.Event{Time: at(0.4), Host: h, Step: fleet.StepRun, Phase: fleet.PhaseDone, Batch: -1,
				Result: &fleet.HostResult{Host: h, Batch: -1, Status: fleet.StatusOK, Units: []string{"smart-proxy.service"}}},
		)
	}
	ev = append(ev,
		fleet.Event{Time: at(0), Host: "h3", Step: fleet.StepConnect, Phase: fleet.PhaseDone, Batch: -1},
		fleet.Event{Time: at(0.2), Host: "h3", Step: fleet.StepPreflight, Phase: fleet.PhaseDone, Batch: -1, Message: "0 file(s) to change"},
		fleet.Event{Time: at(0.4), Host: "h3", Step: fleet.StepRun, Phase: fleet.PhaseDone, Batch: -1,
			Result: &fleet.HostResult{Host: "h3", Batch: -1, Status: fleet.StatusUnchanged, Units: []string{"smart-proxy.service", "rule-proxy.service"}}},
	)
	return ev
}

func timing(before, after time.Duration, killed bool) []fleet.UnitTiming {
	b := &journal.UnitStop{Unit: "smart-proxy.service", Duration: before, Killed: killed, Result: "timeout"}
	if !killed {
		b.Result = "clean"
	}
	return []fleet.UnitTiming{{Unit: "smart-proxy.service", Before: b,
		After: &journal.UnitStop{Unit: "smart-proxy.service", Duration: after, Result: "clean"}}}
}

// hostSteps emits a host's steps from start, one every step seconds, up to
// and including last (done).
func hostSteps(host string, batch int, start, step float64, last fleet.Step) []fleet.Event {
	var ev []fleet.Event
	t := start
	for _, s := range steps {
		ev = append(ev, fleet.Event{Time: at(t), Host: host, Step: s, Phase: fleet.PhaseStart, Batch: batch})
		t += step
		e := fleet.Event{Time: at(t), Host: host, Step: s, Phase: fleet.PhaseDone, Batch: batch, Duration: time.Duration(step * float64(time.Second))}
		switch s {
		case fleet.StepPreflight:
			e.Message, e.Changes = "2 file(s) to change", changes(host)
		case fleet.StepBackup:
			e.Message = "1 file(s) backed up"
		case fleet.StepRestart:
			e.Message = "smart-proxy.service active and healthy in 4.02s"
		case fleet.StepReboot:
			e.Message = "down after 0.41s, back with a new boot id after 1.2s, units active after 1.5s"
		case fleet.StepJournal:
			e.Message = "smart-proxy.service: stop 3.17s, SIGKILLed -> 0.018s, clean"
		case fleet.StepVerify:
			e.Message = "every stop passes: smart-proxy.service 0.018s, clean"
		}
		ev = append(ev, e)
		if s == last {
			break
		}
	}
	return ev
}

// runEvents: h1 (canary) done ok with its timings, h2 failed at restart,
// h3 queued: the run still going at t=36s.
func runEvents() []fleet.Event {
	ev := []fleet.Event{{Time: at(0), Step: fleet.StepRun, Phase: fleet.PhaseStart, Batch: -1,
		Message: "run " + runID + ": 3 host(s) in 3 batch(es), failure budget 1"}}
	ev = append(ev, hostSteps("h1", 0, 0, 1.35, fleet.StepVerify)...)
	ev = append(ev, fleet.Event{Time: at(13.5), Host: "h1", Step: fleet.StepRun, Phase: fleet.PhaseDone, Batch: 0, Duration: 13500 * time.Millisecond,
		Message: "2 file(s) changed", Result: &fleet.HostResult{Host: "h1", Batch: 0, Status: fleet.StatusOK, Changed: 2, RunID: runID,
			RestartTime: 4020 * time.Millisecond, Duration: 13500 * time.Millisecond,
			Reboot:  &fleet.RebootTiming{Down: 410 * time.Millisecond, Back: 1200 * time.Millisecond, Active: 1500 * time.Millisecond},
			Timings: timing(3170*time.Millisecond, 18*time.Millisecond, true)}})
	ev = append(ev, hostSteps("h2", 1, 14, 1, fleet.StepReload)...)
	ev = append(ev,
		fleet.Event{Time: at(20), Host: "h2", Step: fleet.StepRestart, Phase: fleet.PhaseStart, Batch: 1},
		fleet.Event{Time: at(24.5), Host: "h2", Step: fleet.StepRestart, Phase: fleet.PhaseInfo, Batch: -1, Warning: true, Message: "smart-proxy.service: State 'stop-sigterm' timed out. Killing."},
		fleet.Event{Time: at(35), Host: "h2", Step: fleet.StepRestart, Phase: fleet.PhaseFail, Batch: 1,
			Err:     &fleet.HostError{Host: "h2", Step: fleet.StepRestart, Err: errors.New("smart-proxy.service not healthy within 15s: unit is failed")},
			Message: "smart-proxy.service not healthy within 15s: unit is failed"},
	)
	return ev
}

// finishedEvents: the run above, to the end: h3 halted, not started.
func finishedEvents() []fleet.Event {
	ev := runEvents()
	return append(ev,
		fleet.Event{Time: at(35.1), Host: "h3", Step: fleet.StepRun, Phase: fleet.PhaseHalted, Batch: 2, Message: "not started: the run halted",
			Result: &fleet.HostResult{Host: "h3", Batch: 2, Status: fleet.StatusNotStarted}},
		fleet.Event{Time: at(35.2), Step: fleet.StepRun, Phase: fleet.PhaseDone, Batch: -1, Duration: 35200 * time.Millisecond,
			Message: "run " + runID + " finished in 35.2s: 3 host(s), 1 failed; halted: 2 host(s) failed, budget 1"},
	)
}

// fleetEvents: a bigger, healthy run with real-looking stop times (the 90 s
// picture): 6 hosts, 3 done, 1 running, 2 queued.
func fleetEvents() ([]HostRow, []fleet.Event) {
	rows := []HostRow{{"web-01", 0}, {"web-02", 1}, {"web-03", 1}, {"db-01", 2}, {"db-02", 2}, {"cache-01", 3}}
	ev := []fleet.Event{{Time: at(0), Step: fleet.StepRun, Phase: fleet.PhaseStart, Batch: -1, Message: "run " + runID + ": 6 host(s) in 4 batch(es), failure budget 0"}}
	befores := []time.Duration{90120 * time.Millisecond, 90080 * time.Millisecond, 45300 * time.Millisecond}
	afters := []time.Duration{61 * time.Millisecond, 58 * time.Millisecond, 1240 * time.Millisecond}
	start := 0.0
	for i, h := range rows[:3] {
		ev = append(ev, hostSteps(h.Name, h.Batch, start, 2.7, fleet.StepVerify)...)
		end := start + 27
		ev = append(ev, fleet.Event{Time: at(end), Host: h.Name, Step: fleet.StepRun, Phase: fleet.PhaseDone, Batch: h.Batch,
			Result: &fleet.HostResult{Host: h.Name, Batch: h.Batch, Status: fleet.StatusOK, Changed: 2, RunID: runID, Duration: 27 * time.Second,
				Units: []string{"smart-proxy.service", "rule-proxy.service"},
				Reboot: &fleet.RebootTiming{Down: 90400 * time.Millisecond, Back: 92100 * time.Millisecond, Active: 93000 * time.Millisecond,
					SSHDStopped: 12 * time.Millisecond, Shutdown: 90150 * time.Millisecond, Noticed: 31 * time.Millisecond},
				Timings: timing(befores[i], afters[i], i < 2)}})
		if i == 0 {
			start = end
		}
	}
	ev = append(ev, hostSteps("db-01", 2, 54, 2, fleet.StepPush)...)
	ev = append(ev, fleet.Event{Time: at(62), Host: "db-01", Step: fleet.StepDropIn, Phase: fleet.PhaseStart, Batch: 2})
	return rows, ev
}

// stoppedEvents: the operator pressed Ctrl-C twice while web-02 (batch 1)
// was at its restart: web-01 (the canary) done, web-02 cut off (fleet
// reports the remote command's whole script first, as its detail), the
// four others never started.
func stoppedEvents() ([]HostRow, []fleet.Event) {
	rows := []HostRow{{"web-01", 0}, {"web-02", 1}, {"web-03", 1}, {"db-01", 2}, {"db-02", 2}, {"cache-01", 3}}
	ev := []fleet.Event{{Time: at(0), Step: fleet.StepRun, Phase: fleet.PhaseStart, Batch: -1, Message: "run " + runID + ": 6 host(s) in 4 batch(es), failure budget 0"}}
	ev = append(ev, hostSteps("web-01", 0, 0, 2.7, fleet.StepVerify)...)
	ev = append(ev, fleet.Event{Time: at(27), Host: "web-01", Step: fleet.StepRun, Phase: fleet.PhaseDone, Batch: 0,
		Result: &fleet.HostResult{Host: "web-01", Batch: 0, Status: fleet.StatusOK, Changed: 2, RunID: runID, Duration: 27 * time.Second,
			Timings: timing(90120*time.Millisecond, 61*time.Millisecond, true)}})
	ev = append(ev, hostSteps("web-02", 1, 27, 1, fleet.StepReload)...)
	script := "web-02: sh -c '#!/bin/bash\nset -euo pipefail\nunits=(\"$@\")\n" + strings.Repeat("systemctl ...\n", 55) + "' fleetfix-restart smart-proxy.service exited with status -1"
	cause := "web-02: context canceled (fleetfix-restart exited with status -1)"
	ev = append(ev,
		fleet.Event{Time: at(33), Host: "web-02", Step: fleet.StepRestart, Phase: fleet.PhaseStart, Batch: 1},
		fleet.Event{Time: at(40), Host: "web-02", Step: fleet.StepRestart, Phase: fleet.PhaseInfo, Batch: 1, Message: script},
		fleet.Event{Time: at(40), Host: "web-02", Step: fleet.StepRestart, Phase: fleet.PhaseFail, Batch: 1, Message: cause,
			Result: &fleet.HostResult{Host: "web-02", Batch: 1, Status: fleet.StatusCancelled, Step: fleet.StepRestart, RunID: runID, Error: cause, Duration: 13 * time.Second}},
	)
	for _, h := range rows[2:] {
		ev = append(ev, fleet.Event{Time: at(40.1), Host: h.Name, Step: fleet.StepRun, Phase: fleet.PhaseHalted, Batch: h.Batch, Message: "not started: the run halted",
			Result: &fleet.HostResult{Host: h.Name, Batch: h.Batch, Status: fleet.StatusNotStarted}})
	}
	ev = append(ev, fleet.Event{Time: at(40.2), Step: fleet.StepRun, Phase: fleet.PhaseDone, Batch: -1, Duration: 40200 * time.Millisecond,
		Message: "run " + runID + " finished in 40.2s: 6 host(s), 0 failed, 1 cancelled; halted: stopped by the operator"})
	return rows, ev
}

// planFailedEvents is planEvents with h3 unreachable: its plan failed.
func planFailedEvents() []fleet.Event {
	ev := planEvents()[:8] // h1 and h2
	return append(ev, fleet.Event{Time: at(0.1), Host: "h3", Step: fleet.StepConnect, Phase: fleet.PhaseFail, Batch: -1,
		Message: "dial tcp 10.0.0.3:22: connect: no route to host (after 3 attempts over 10s; check the address, the port and any firewall between)"})
}

// testPolicy is the fixtures' policy line.
var testPolicy = Policy{Line: "3 host(s) in 3 batch(es) · canary 1 · batch 1 · parallel 1 · failure budget 0 · reboot · on failure rollback · old build SIGKILLed after 20.00s",
	MaxParallel: 1, OldStop: 20 * time.Second}

// noBeforeEvents: h1 done with an after stop of 11 ms and no before (the
// old build's stop was not in the journal).
func noBeforeEvents() []fleet.Event {
	ev := hostSteps("h1", 0, 0, 1, fleet.StepVerify)
	ts := timing(0, 11*time.Millisecond, false)
	ts[0].Before, ts[0].BeforeNote = nil, "the old build's stop is not in the journal"
	return append(ev, fleet.Event{Time: at(10), Host: "h1", Step: fleet.StepRun, Phase: fleet.PhaseDone, Batch: 0,
		Result: &fleet.HostResult{Host: "h1", Batch: 0, Status: fleet.StatusOK, RunID: runID, Duration: 10 * time.Second, Timings: ts}})
}
