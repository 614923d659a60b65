package inventory

import "testing"

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
