package main

import (
	"bytes"
	"testing"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/journal"
)

func TestScanExit(t *testing.T) {
	unit := func(killed bool) fleet.ScanUnit {
		return fleet.ScanUnit{UnitStop: journal.UnitStop{Unit: "demo.service", Killed: killed}}
	}
	clean := fleet.ScanResult{Host: "h1", Units: []fleet.ScanUnit{unit(false)}}
	killed := fleet.ScanResult{Host: "h2", Units: []fleet.ScanUnit{unit(false), unit(true)}}
	tests := []struct {
		name    string
		results []fleet.ScanResult
		flag    bool
		fail    bool
		said    string
	}{
		{"clean", []fleet.ScanResult{clean}, true, false, ""},
		{"killed, no flag", []fleet.ScanResult{clean, killed}, false, false, ""},
		{"killed, --fail-on-sigkill", []fleet.ScanResult{clean, killed}, true, true, "fleetfix: a unit was SIGKILLed on 1 host(s) (--fail-on-sigkill)\n"},
		{"no host", nil, true, false, ""},
	}
	for _, tt := range tests {
		var w bytes.Buffer
		err := scanExit(&w, tt.results, tt.flag)
		if (err == exitCode(exitFailedHosts)) != tt.fail || (err != nil) != tt.fail || w.String() != tt.said {
			t.Errorf("%s: %v, said %q; want failed %v, said %q", tt.name, err, w.String(), tt.fail, tt.said)
		}
	}
}
