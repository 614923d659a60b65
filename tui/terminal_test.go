package tui

import (
	"bytes"
	"testing"

	"github.com/charmbracelet/colorprofile"
)

func TestColorProfileFromTheEnvironmentOnly(t *testing.T) {
	tests := []struct {
		env  []string
		want colorprofile.Profile
	}{
		{[]string{"TERM=xterm"}, colorprofile.ANSI},
		{[]string{"TERM=xterm", "TMUX=/tmp/tmux-0/default,1,0"}, colorprofile.ANSI},
		{[]string{"TERM=xterm-256color"}, colorprofile.ANSI256},
		{[]string{"TERM=xterm-256color", "COLORTERM=truecolor"}, colorprofile.TrueColor},
		{[]string{"TERM=dumb"}, colorprofile.NoTTY},
		{[]string{"TERM=xterm-256color", "NO_COLOR=1"}, colorprofile.ASCII},
	}
	for _, tt := range tests {
		if got := colorProfile(tt.env); got != tt.want {
			t.Errorf("%v: %v, want %v", tt.env, got, tt.want)
		}
	}
}

func TestSaveTitlePushesThenPops(t *testing.T) {
	var b bytes.Buffer
	restore := saveTitle(&b)
	if b.String() != "\x1b[22;0t" {
		t.Errorf("saved with %q, want XTWINOPS 22;0", b.String())
	}
	b.Reset()
	restore()
	if b.String() != "\x1b[23;0t" {
		t.Errorf("restored with %q, want XTWINOPS 23;0", b.String())
	}
}
