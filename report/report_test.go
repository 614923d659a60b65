package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/fleetfix/fleetfix/jsonl"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

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

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it); got:\n%s", name, got)
	}
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
		t.Run(tc.name, func(t *testing.T) { golden(t, tc.name, tc.got) })
	}
}

func bytesContains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
