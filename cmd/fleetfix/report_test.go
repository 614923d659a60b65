package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/jsonl"
)

// A run stores its summary in the state directory (also when its host
// failed), and report renders the latest in every format, to a file with
// -o; a run with no stored summary names -i.
func TestReportOfAStoredRun(t *testing.T) {
	state := t.TempDir()
	env := []string{"XDG_STATE_HOME=" + state}
	if _, stderr, code := fleetfix(t, env, "rollout", tinyInventory(t, "127.0.0.1", 1)); code != exitFailedHosts {
		t.Fatalf("rollout: exit %d\n%s", code, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(state, "fleetfix", "runs", "*", "summary.json"))
	if len(files) != 1 {
		t.Fatalf("stored summaries: %q, want one", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	sum, err := jsonl.DecodeSummary(b)
	if err != nil {
		t.Fatal(err)
	}
	id := filepath.Base(filepath.Dir(files[0]))
	if sum.RunID != id || sum.Command != "rollout" || sum.Policy == nil || len(sum.Policy.Units) != 1 || sum.Started.IsZero() ||
		sum.User == "" || len(sum.Hosts) != 1 || sum.Hosts[0].Status != "failed" || sum.Hosts[0].Step != "connect" {
		t.Fatalf("stored summary: %+v", sum)
	}

	md, stderr, code := fleetfix(t, env, "report")
	if code != 0 || !strings.Contains(md, "# fleetfix rollout "+id) || !strings.Contains(md, "**web1** failed at `connect`") ||
		!strings.Contains(md, "**Policy:** canary") {
		t.Errorf("report: exit %d\n%s%s", code, md, stderr)
	}
	out, _, code := fleetfix(t, env, "report", id, "--format", "junit")
	var suites struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &suites); code != 0 || err != nil || suites.Failures != 1 || len(suites.Suites) != 1 ||
		suites.Suites[0].Cases[0].Name != "demo.service" || suites.Suites[0].Cases[0].Failure == nil {
		t.Errorf("junit: exit %d, %v %+v\n%s", code, err, suites, out)
	}
	page := filepath.Join(t.TempDir(), "run.html")
	if _, stderr, code := fleetfix(t, env, "report", "--format", "html", "-o", page); code != 0 {
		t.Errorf("html: exit %d\n%s", code, stderr)
	}
	if b, err := os.ReadFile(page); err != nil || !strings.HasPrefix(string(b), "<!DOCTYPE html>") || !strings.Contains(string(b), "web1") {
		t.Errorf("html report file: %v\n%.300s", err, b)
	}

	if _, stderr, code := fleetfix(t, env, "report", "20000101_000000"); code == 0 || !strings.Contains(stderr, "-i INVENTORY") {
		t.Errorf("a run with no summary: exit %d, %q", code, stderr)
	}
	if _, stderr, code := fleetfix(t, env, "report", "--format", "pdf"); code != exitUsage || !strings.Contains(stderr, "md, html, junit") {
		t.Errorf("--format pdf: exit %d, %q", code, stderr)
	}
}

// scan --format writes the scan as a report: a host it cannot reach is in
// it, with the error.
func TestScanAsReport(t *testing.T) {
	inv := tinyInventory(t, "127.0.0.1", 1)
	out, stderr, code := fleetfix(t, nil, "scan", inv, "--format", "md")
	if code != exitFailedHosts || !strings.HasPrefix(out, "# fleetfix scan") || !strings.Contains(out, "| web1 | - | - | error: ") {
		t.Errorf("scan --format md: exit %d\n%s%s", code, out, stderr)
	}
	out, _, _ = fleetfix(t, nil, "scan", inv, "--format", "html")
	if !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, "web1") {
		t.Errorf("scan --format html:\n%.300s", out)
	}
	if _, stderr, code := fleetfix(t, nil, "scan", inv, "--format", "junit"); code != exitUsage || !strings.Contains(stderr, "md, html") {
		t.Errorf("scan --format junit: exit %d, %q", code, stderr)
	}
}
