package unixmode

import (
	"io/fs"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		bits  uint32
		mode  fs.FileMode
		octal string
	}{
		{0o644, 0o644, "0644"},
		{0o4755, fs.ModeSetuid | 0o755, "4755"},
		{0o2750, fs.ModeSetgid | 0o750, "2750"},
		{0o1777, fs.ModeSticky | 0o777, "1777"},
		{0o104755, fs.ModeSetuid | 0o755, "4755"}, // a raw st_mode: the file type is dropped
	}
	for _, tt := range tests {
		if got := FromBits(tt.bits); got != tt.mode {
			t.Errorf("FromBits(%o) = %v, want %v", tt.bits, got, tt.mode)
		}
		if got := Octal(tt.mode); got != tt.octal {
			t.Errorf("Octal(%v) = %s, want %s", tt.mode, got, tt.octal)
		}
		if got, err := ParseOctal(tt.octal); err != nil || got != tt.mode {
			t.Errorf("ParseOctal(%s) = %v, %v", tt.octal, got, err)
		}
	}
	for _, bad := range []string{"9999", "17777", "", "rwx"} {
		if _, err := ParseOctal(bad); err == nil {
			t.Errorf("ParseOctal(%q) accepted", bad)
		}
	}
}
