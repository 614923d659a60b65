package inventory

import (
	"testing"
	"time"
)

func TestCheckSettingValue(t *testing.T) {
	tests := []struct {
		typ, v string
		ok     bool
	}{
		{"SECONDS", "20s", true},
		{"SECONDS", "20", true},
		{"SECONDS", "1min 30s", true},
		{"SECONDS", "1h30min", true},
		{"SECONDS", "1.5s", true},
		{"SECONDS", "500ms", true},
		{"SECONDS", "2 weeks", true},
		{"SECONDS", "infinity", true},
		{"SECONDS", "", true},
		{"SECONDS", "[Unit]", false},
		{"SECONDS", "20x", false},
		{"SECONDS", "s", false},
		{"SECONDS", "1.2.3s", false},
		{"SIGNAL", "SIGTERM", true},
		{"SIGNAL", "TERM", true},
		{"SIGNAL", "15", true},
		{"SIGNAL", "SIGRTMIN+3", true},
		{"SIGNAL", "0", false},
		{"SIGNAL", "SIGFOO", false},
		{"SIGNAL", "RTMIN+", false},
		{"BOOLEAN", "yes", true},
		{"BOOLEAN", "Off", true},
		{"BOOLEAN", "2", false},
		{"KILLMODE", "control-group", true},
		{"KILLMODE", "cgroup", false},
		{"SERVICERESTART", "always", true},
		{"SERVICERESTART", "sometimes", false},
		{"OTHER", "/usr/bin/x --listen [::1]:80", true},
		{"OTHER", "[Install]", false},
	}
	for _, tt := range tests {
		if err := checkSettingValue(tt.typ, tt.v); (err == nil) != tt.ok {
			t.Errorf("checkSettingValue(%s, %q) = %v, want ok=%v", tt.typ, tt.v, err, tt.ok)
		}
	}
}

func TestUnitKeys(t *testing.T) {
	keys := parseUnitKeys()
	tests := []struct {
		section, key, typ string
		known             bool
	}{
		{"Service", "TimeoutStopSec", "SECONDS", true},
		{"Service", "KillMode", "KILLMODE", true},
		{"Service", "FinalKillSignal", "SIGNAL", true},
		{"Service", "SendSIGHUP", "BOOLEAN", true},
		{"Service", "RestartMode", "OTHER", true}, // systemd 254
		{"Service", "Description", "", false},
		{"Unit", "Description", "STRING", true},
		{"X-Mine", "Anything", "", true},
	}
	for _, tt := range tests {
		typ, known := keys.settingType(tt.section, tt.key)
		if typ != tt.typ || known != tt.known {
			t.Errorf("settingType(%s, %s) = %q, %v; want %q, %v", tt.section, tt.key, typ, known, tt.typ, tt.known)
		}
	}
}

func TestParseTimespan(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"20s", 20 * time.Second}, {"90", 90 * time.Second}, {"1min 30s", 90 * time.Second},
		{"1h30min", 90 * time.Minute}, {"1.5s", 1500 * time.Millisecond}, {"500ms", 500 * time.Millisecond},
		{"250µs", 250 * time.Microsecond}, {"2w", 14 * 24 * time.Hour}, {"1M", 2629800 * time.Second},
		{" 3 min ", 3 * time.Minute}, {"infinity", -1},
	}
	for _, tt := range tests {
		if got, err := ParseTimespan(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseTimespan(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "20x", "abc", "1..2s", ".", "s"} {
		if d, err := ParseTimespan(bad); err == nil {
			t.Errorf("ParseTimespan(%q) = %v, want an error", bad, d)
		}
	}
}
