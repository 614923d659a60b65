package inventory

import (
	"strings"
	"testing"
)

func TestSettingSince(t *testing.T) {
	tests := []struct {
		key  string
		want int
	}{
		{"FinalKillSignal", 240},
		{"TimeoutStopFailureMode", 246},
		{"TimeoutAbortSec", 243},
		{"OOMPolicy", 243},
		{"ExitType", 250},
		{"RestartMode", 254},
		{"KillMode", 0},  // older than the table
		{"NoSuchKey", 0}, // not a setting at all: the inventory refuses it
	}
	for _, tt := range tests {
		if got := SettingSince(tt.key); got != tt.want {
			t.Errorf("SettingSince(%s) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

// Every key of the table is a setting unitkeys.txt knows, and each line
// is Key=VERSION with a version systemd had.
func TestUnitSinceTable(t *testing.T) {
	keys := parseUnitKeys()
	for line := range strings.Lines(unitSinceText) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		found := false
		for _, s := range keys.sections() {
			if _, ok := keys[s][k]; ok {
				found = true
			}
		}
		if n := SettingSince(k); !found || n < 1 || n > 257 || v == "" {
			t.Errorf("%q: known %v, version %d", line, found, n)
		}
	}
}

func TestNewestSetting(t *testing.T) {
	d := DropIn{Settings: []Setting{{"KillMode", "mixed"}, {"TimeoutStopFailureMode", "kill"}, {"FinalKillSignal", "SIGKILL"}}}
	if k, v := d.NewestSetting(); k != "TimeoutStopFailureMode" || v != 246 {
		t.Errorf("NewestSetting = %s, %d", k, v)
	}
	if k, v := (DropIn{Settings: []Setting{{"KillMode", "mixed"}}}).NewestSetting(); k != "" || v != 0 {
		t.Errorf("NewestSetting of old keys = %s, %d", k, v)
	}
}
