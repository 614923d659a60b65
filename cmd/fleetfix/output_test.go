package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/golden"
	"github.com/fleetfix/fleetfix/jsonl"
)

// sampleRun is a fixed event stream: a canary that changes two files and a
// host that fails its restart.
func sampleRun() ([]fleet.Event, *fleet.Summary) {
	t0 := time.Date(2026, 11, 24, 21, 30, 45, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	changes := []fleet.Change{
		{Path: "/usr/local/bin/smart-proxy", Kind: "artifact", Unit: "smart-proxy.service", Existed: true,
			OldSHA256: "d2b36f0f84340c62a225cfcf0ed2a42fe27a17e667ad710d50d503164bf3181b", NewSHA256: "3aa2a5da482a68936eb4f9f4db39d3da6b89a293321af8023326b779954f60ed",
			OldMode: "0750", NewMode: "0755", OldOwner: "root:adm", NewOwner: "root:root", OldSize: 8425, NewSize: 8487,
			Backup: "/usr/local/bin/smart-proxy.bak.20261124_213045"},
		{Path: "/etc/systemd/system/smart-proxy.service.d/override.conf", Kind: "dropin", Unit: "smart-proxy.service",
			NewSHA256: "25cbef39ffda0000000000000000000000000000000000000000000000000000", NewMode: "0644", NewOwner: "root:root", NewSize: 151,
			CreatedDir: "/etc/systemd/system/smart-proxy.service.d", Diff: "+[Service]\n+TimeoutStopSec=20s\n"},
	}
	he := &fleet.HostError{Host: "h2", Step: fleet.StepRestart, Err: errors.New("smart-proxy.service not healthy within 15s: unit is failed")}
	ok := fleet.HostResult{Host: "h1", Batch: 0, Status: fleet.StatusOK, Changed: 2, RestartTime: 20310 * time.Millisecond, Duration: 20831 * time.Millisecond, RunID: "20261124_213045", Units: []string{"smart-proxy.service", "rule-proxy.service"}}
	bad := fleet.HostResult{Host: "h2", Batch: 1, Status: fleet.StatusFailed, Step: fleet.StepRestart, Error: he.Error(), Changed: 2, Duration: 16 * time.Second, RunID: "20261124_213045", Units: []string{"smart-proxy.service"}}
	ev := []fleet.Event{
		{Time: at(0), Step: fleet.StepRun, Phase: fleet.PhaseStart, Batch: -1, Message: "run 20261124_213045: 2 host(s) in 2 batch(es), failure budget 0"},
		{Time: at(1), Host: "h1", Step: fleet.StepConnect, Phase: fleet.PhaseStart},
		{Time: at(35), Host: "h1", Step: fleet.StepConnect, Phase: fleet.PhaseDone, Duration: 34 * time.Millisecond},
		{Time: at(120), Host: "h1", Step: fleet.StepPreflight, Phase: fleet.PhaseDone, Duration: 85 * time.Millisecond, Message: "2 file(s) to change", Changes: changes},
		{Time: at(121), Host: "h1", Step: fleet.StepPreflight, Phase: fleet.PhaseInfo, Warning: true, Message: "no persistent journal (/var/log/journal): stop timings after a reboot will be unavailable"},
		{Time: at(150), Host: "h1", Step: fleet.StepBackup, Phase: fleet.PhaseDone, Duration: 28 * time.Millisecond, Message: "1 file(s) backed up"},
		{Time: at(20830), Host: "h1", Step: fleet.StepRestart, Phase: fleet.PhaseDone, Duration: 20310 * time.Millisecond, Message: "smart-proxy.service active and healthy in 20.31s"},
		{Time: at(20831), Host: "h1", Step: fleet.StepRun, Phase: fleet.PhaseDone, Duration: 20831 * time.Millisecond, Message: "2 file(s) changed", Result: &ok},
		{Time: at(36900), Host: "h2", Step: fleet.StepRestart, Phase: fleet.PhaseFail, Batch: 1, Err: he, Message: he.Err.Error()},
		{Time: at(36901), Step: fleet.StepRun, Phase: fleet.PhaseDone, Batch: -1, Duration: 36901 * time.Millisecond, Message: "run 20261124_213045 finished in 36.9s: 2 host(s), 1 failed; halted: 1 host(s) failed, budget 0"},
	}
	return ev, &fleet.Summary{RunID: "20261124_213045", Hosts: []fleet.HostResult{ok, bad}, Halted: true, Duration: 36901 * time.Millisecond}
}

func mustFormat(t *testing.T, name string) format {
	t.Helper()
	f, err := formatNamed(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPlainOutput(t *testing.T) {
	events, s := sampleRun()
	var b bytes.Buffer
	p, summary := mustFormat(t, "plain").run(&b, s.RunID, false)
	for _, e := range events {
		p.Report(e)
	}
	summary("rollout", s)
	golden.Check(t, filepath.Join("testdata", "plain.golden"), b.Bytes())
}

func TestJSONOutput(t *testing.T) {
	events, s := sampleRun()
	var b bytes.Buffer
	j, summary := mustFormat(t, "json").run(&b, s.RunID, false)
	for _, e := range events {
		j.Report(e)
	}
	summary("rollout", s)
	golden.Check(t, filepath.Join("testdata", "json.golden"), b.Bytes())
	// Every line is an object with the schema version and a type.
	for i, line := range bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if m["schema"] != float64(jsonl.Schema) || (m["type"] != "event" && m["type"] != "summary") {
			t.Errorf("line %d: schema %v type %v", i+1, m["schema"], m["type"])
		}
	}
}
