package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
)

// frontEnd is the one decision of which front end runs a rollout.
func TestFrontEnd(t *testing.T) {
	tty := console{terminal: true, term: "xterm-256color"}
	tests := []struct {
		name   string
		output string
		plain  bool
		dry    bool
		c      console
		want   front
	}{
		{"a terminal", "plain", false, false, tty, frontTUI},
		{"a pipe", "plain", false, false, console{term: "xterm"}, frontLines},
		{"a pipe, TERM=dumb", "plain", false, false, console{term: "dumb"}, frontLines},
		{"TERM=dumb", "plain", false, false, console{terminal: true, term: "dumb"}, frontConfirm},
		{"no TERM", "plain", false, false, console{terminal: true}, frontTUI},
		{"--plain", "plain", true, false, tty, frontLines},
		{"--plain, TERM=dumb", "plain", true, false, console{terminal: true, term: "dumb"}, frontLines},
		{"-o json", "json", false, false, tty, frontLines},
		{"-o json, TERM=dumb", "json", false, false, console{terminal: true, term: "dumb"}, frontLines},
		{"--dry-run", "plain", false, true, tty, frontLines},
		{"--dry-run, TERM=dumb", "plain", false, true, console{terminal: true, term: "dumb"}, frontLines},
	}
	for _, tt := range tests {
		f := commonFlags{output: tt.output, plain: tt.plain}
		if err := f.validate(); err != nil {
			t.Fatal(err)
		}
		if got := f.frontEnd(tt.c, tt.dry); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// scanWriter: --format writes a report instead of --output's format, and
// asking for both is a usage error.
func TestScanWriter(t *testing.T) {
	results := []fleet.ScanResult{{Host: "h1"}}
	tests := []struct {
		name      string
		output    string
		report    string
		outputSet bool
		prefix    string // of what the writer writes; "" for an error
		err       string
	}{
		{"plain", "plain", "", false, "", ""},
		{"json", "json", "", true, `{"schema":1,"type":"scan"`, ""},
		{"md", "plain", "md", false, "# fleetfix scan", ""},
		{"html", "plain", "html", false, "<!DOCTYPE html>", ""},
		{"junit", "plain", "junit", false, "", `--format "junit": want md, html`},
		{"-o json --format md", "json", "md", true, "", "--format md and --output json: give one"},
		{"-o plain --format md", "plain", "md", true, "", "--format md and --output plain: give one"},
	}
	for _, tt := range tests {
		f := commonFlags{output: tt.output}
		if err := f.validate(); err != nil {
			t.Fatal(err)
		}
		write, err := f.scanWriter(tt.report, tt.outputSet)
		if tt.err != "" {
			if _, usage := err.(usageError); !usage || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %v, want the usage error %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var b bytes.Buffer
		write(&b, results, time.Second)
		if !strings.HasPrefix(b.String(), tt.prefix) || b.Len() == 0 {
			t.Errorf("%s: wrote %.80q, want it to start %q", tt.name, b.String(), tt.prefix)
		}
	}
}

// hostsExit is every host command's exit: 1 unless every host ended ok.
func TestHostsExit(t *testing.T) {
	tests := []struct {
		name     string
		statuses []fleet.Status
		step     fleet.Step
		want     error
	}{
		{"ok", []fleet.Status{fleet.StatusOK, fleet.StatusUnchanged}, "", nil},
		{"rolled back by a rollback", []fleet.Status{fleet.StatusRolledBack}, "", nil},
		{"rolled back after a failure", []fleet.Status{fleet.StatusRolledBack}, fleet.StepRestart, exitCode(exitFailedHosts)},
		{"failed", []fleet.Status{fleet.StatusOK, fleet.StatusFailed}, "", exitCode(exitFailedHosts)},
		{"halted", []fleet.Status{fleet.StatusOK, fleet.StatusHalted}, "", exitCode(exitFailedHosts)},
		{"not started", []fleet.Status{fleet.StatusNotStarted}, "", exitCode(exitFailedHosts)},
		{"cancelled", []fleet.Status{fleet.StatusCancelled}, "", exitCode(exitFailedHosts)},
	}
	for _, tt := range tests {
		s := &fleet.Summary{}
		for _, st := range tt.statuses {
			s.Hosts = append(s.Hosts, fleet.HostResult{Host: "h", Status: st, Step: tt.step})
		}
		if got := hostsExit(s); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
