package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/fleetfix/fleetfix/internal/golden"
	"github.com/fleetfix/fleetfix/jsonl"
)

// fixture is testdata/summary.json: a halted rollout with a passing host, a
// host SIGKILLed at its reboot, one rolled back after a failed restart and
// one never started.
func fixture(t *testing.T) jsonl.Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jsonl.DecodeSummary(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGoldens(t *testing.T) {
	s := fixture(t)
	junit, err := JUnit(s)
	if err != nil {
		t.Fatal(err)
	}
	sc := jsonl.Scan{Schema: jsonl.Schema, Type: jsonl.TypeScan, DurationMS: 812, Hosts: []jsonl.ScanHost{
		{Host: "h1", ShutdownMS: 21400, Units: []jsonl.ScanUnit{
			{Stop: jsonl.Stop{Unit: "smart-proxy.service", StopMS: 20010, Killed: true, Result: "timeout"}, TimeoutStop: "20s", KillMode: "mixed"},
			{Stop: jsonl.Stop{Unit: "cron.service", StopMS: 12.5, Result: "clean"}, TimeoutStop: "1min 30s", KillMode: "control-group"}}},
		{Host: "h2", Note: "no previous boot in the journal"},
		{Host: "h3", Error: "connect: dial tcp 10.0.0.3:22: i/o timeout"},
	}}
	for _, tc := range []struct {
		name string
		got  []byte
	}{
		{"summary.md", Markdown(s)},
		{"summary.junit.xml", junit},
		{"scan.md", ScanMarkdown(sc)},
	} {
		t.Run(tc.name, func(t *testing.T) { golden.Check(t, filepath.Join("testdata", tc.name), tc.got) })
	}
}

func bytesContains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
