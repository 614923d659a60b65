package main

import (
	"strings"
	"testing"
)

func TestAskStartOnlyYesStarts(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{{"y\n", true}, {"YES\n", true}, {" yes \n", true}, {"\n", false}, {"n\n", false}, {"", false}, {"yep\n", false}} {
		var out strings.Builder
		if got := askStart(strings.NewReader(tt.in), &out); got != tt.want {
			t.Errorf("answer %q: %v, want %v", tt.in, got, tt.want)
		}
		if out.String() != "Start the rollout? [y/N] " {
			t.Errorf("asked %q", out.String())
		}
	}
}
