package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/journal"
	"github.com/fleetfix/fleetfix/jsonl"
)

// fleetbench reads back what fleetfix's JSON writer writes.
func TestReadFleetfixJSON(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 21, 30, 45, 0, time.UTC)
	var b bytes.Buffer
	w := jsonl.NewWriter(&b, "20261124_213045")
	w.Report(fleet.Event{Time: t0, Step: fleet.StepRun, Phase: fleet.PhaseStart, Batch: -1})
	w.Report(fleet.Event{Time: t0.Add(time.Second), Host: "h1", Step: fleet.StepConnect, Phase: fleet.PhaseStart})
	w.Report(fleet.Event{Time: t0.Add(9 * time.Second), Host: "h1", Step: fleet.StepRun, Phase: fleet.PhaseDone})
	b.WriteString("not a json line\n")
	w.Summary("rollout", &fleet.Summary{Duration: 10 * time.Second, Hosts: []fleet.HostResult{{Host: "h1", Status: fleet.StatusOK,
		Reboot: &fleet.RebootTiming{Back: 1500 * time.Millisecond, Noticed: 120 * time.Millisecond}}}})
	path := writeOut(t, "rollout.out", b.Bytes())
	run, err := readFleetfixJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	h := run.Hosts["h1"]
	if !run.OK || run.DurationMS != 10000 || len(run.Hosts) != 1 || h == nil {
		t.Fatalf("run %+v", run)
	}
	if h.Status != "ok" || h.NoticedMS != 120 || h.BackMS != 1500 || !h.First.Equal(t0.Add(time.Second)) || !h.Last.Equal(t0.Add(9*time.Second)) {
		t.Errorf("host %+v", h)
	}
}

func TestReadScanJSON(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("scan: progress on the way\n")
	jsonl.NewWriter(&b, "").Scan([]fleet.ScanResult{{Host: "h1", Units: []fleet.ScanUnit{{UnitStop: journal.UnitStop{Unit: "a.service", Killed: true}}}},
		{Host: "h2", Error: "refused"}}, 2*time.Second)
	path := writeOut(t, "scan.out", b.Bytes())
	s, err := readScanJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.DurationMS != 2000 || len(s.Hosts) != 2 || !s.Hosts[0].Units[0].Killed || s.Hosts[1].Error != "refused" {
		t.Errorf("scan %+v", s)
	}
}

// writeOut writes a command's output where fleetbench would find it.
func writeOut(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
