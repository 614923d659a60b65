package journal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRestartGolden: each restart capture (testdata/restart, the
// restart-journal script's output on a lab host), parsed, is its
// .golden.json (an error as {"error": ...}); -update rewrites them.
func TestRestartGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(journalDir, "restart", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no restart captures: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".jsonl"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if r, err := ParseRestart(bytes.NewReader(data)); err != nil {
				v = map[string]string{"error": err.Error()}
			} else {
				v = r
			}
			checkGolden(t, strings.TrimSuffix(f, ".jsonl")+".golden.json", v)
		})
	}
}

func TestRestartScenarios(t *testing.T) {
	tests := []struct {
		file    string
		unit    string
		killed  bool
		request bool
		result  string
		min     time.Duration
		max     time.Duration
	}{
		// The buggy build SIGKILLed by systemd after TimeoutStopSec=5s.
		{"timeout-kill.jsonl", "smart-proxy.service", true, false, "timeout", 5 * time.Second, 5100 * time.Millisecond},
		// The buggy build SIGKILLed by fleetfix past old_stop_timeout 1s; the
		// capture runs on to the reboot's clean stop, which is not the
		// restart's.
		{"bounded-kill.jsonl", "smart-proxy.service", true, true, "failed:signal", time.Second, 1500 * time.Millisecond},
		// trixie (systemd 257): the buggy build SIGKILLed after systemd's
		// default 90 s.
		{"trixie-timeout-kill.jsonl", "smart-proxy.service", true, false, "timeout", 90 * time.Second, 90100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readJournalFile(t, filepath.Join("restart", tt.file))
			r, err := ParseRestart(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			u, ok := r.Unit(tt.unit)
			if !ok || u.Killed != tt.killed || u.KilledOnRequest != tt.request || u.Result != tt.result || u.Duration < tt.min || u.Duration > tt.max {
				t.Errorf("%s: %+v (found %v)", tt.unit, u, ok)
			}
		})
	}
}

func TestRestartNone(t *testing.T) {
	// A shutdown's stops are not a restart's.
	_, err := ParseRestart(bytes.NewReader(readJournalFile(t, "fixed-reboot.jsonl")))
	if !errors.Is(err, ErrNoRestart) {
		t.Errorf("fixed-reboot: %v, want ErrNoRestart", err)
	}
	if _, err := ParseRestart(strings.NewReader("")); !errors.Is(err, ErrNoRestart) {
		t.Errorf("empty input: %v, want ErrNoRestart", err)
	}
}
