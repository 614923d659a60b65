package remote

import (
	"bytes"
	"testing"
)

func TestPIDFilter(t *testing.T) {
	tests := []struct {
		name    string
		chunks  []string
		wantOut string
		wantPID int
	}{
		{"pid only", []string{"fleetfix-pid 42\n"}, "", 42},
		{"pid then stderr", []string{"fleetfix-pid 42\nerr 1\n", "err 2"}, "err 1\nerr 2", 42},
		{"split pid line", []string{"fleet", "fix-pid 4", "2\nrest"}, "rest", 42},
		{"startup noise first", []string{"bashrc says hi\nfleetfix-pid 7\nerr\n"}, "bashrc says hi\nerr\n", 7},
		{"no pid line", []string{"only noise"}, "only noise", 0},
		{"bad pid", []string{"fleetfix-pid x\nerr\n"}, "fleetfix-pid x\nerr\n", 0},
		{"later lookalike kept", []string{"fleetfix-pid 5\nfleetfix-pid 6\n"}, "fleetfix-pid 6\n", 5},
		{"empty", nil, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			p := &pidFilter{w: &out}
			for _, c := range tc.chunks {
				if n, err := p.Write([]byte(c)); err != nil || n != len(c) {
					t.Fatalf("Write(%q) = %d, %v", c, n, err)
				}
			}
			p.flush()
			if out.String() != tc.wantOut {
				t.Errorf("passed on %q, want %q", out.String(), tc.wantOut)
			}
			if p.pgid() != tc.wantPID {
				t.Errorf("pid %d, want %d", p.pgid(), tc.wantPID)
			}
		})
	}

	// Giving up on a huge preamble without a newline passes it all on.
	var out bytes.Buffer
	p := &pidFilter{w: &out}
	big := bytes.Repeat([]byte("x"), maxPreamble+1)
	p.Write(big)
	p.Write([]byte("fleetfix-pid 9\n"))
	if p.pgid() != 0 || out.Len() != len(big)+len("fleetfix-pid 9\n") {
		t.Errorf("after a huge preamble: pid %d, %d bytes passed", p.pgid(), out.Len())
	}
}
