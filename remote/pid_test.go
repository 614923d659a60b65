package remote

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestPIDFilter(t *testing.T) {
	long := strings.Repeat("error: more than one read of stderr\n", 3*stderrChunk/36)
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
		{"long stderr", []string{"fleetfix-pid 3\n" + long}, long, 3},
	}
	// As x/crypto/ssh feeds it: io.Copy from a reader without WriteTo, so
	// through ReadFrom, here in reads of any size.
	copyAll := func(p *pidFilter, chunks []string) error {
		r := iotest.HalfReader(strings.NewReader(strings.Join(chunks, "")))
		n, err := io.Copy(p, r)
		if want := len(strings.Join(chunks, "")); n != int64(want) {
			return fmt.Errorf("copied %d bytes, want %d", n, want)
		}
		return err
	}
	writeAll := func(p *pidFilter, chunks []string) error {
		for _, c := range chunks {
			if n, err := p.Write([]byte(c)); err != nil || n != len(c) {
				return fmt.Errorf("Write(%q) = %d, %v", c, n, err)
			}
		}
		return nil
	}
	for _, tc := range tests {
		for feed, feedFunc := range map[string]func(*pidFilter, []string) error{"Write": writeAll, "ReadFrom": copyAll} {
			t.Run(tc.name+"/"+feed, func(t *testing.T) {
				var out bytes.Buffer
				p := &pidFilter{w: &out}
				if err := feedFunc(p, tc.chunks); err != nil {
					t.Fatal(err)
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
	}

	// Giving up on a huge preamble without a newline passes it all on.
	var out bytes.Buffer
	p := &pidFilter{w: &out}
	big := bytes.Repeat([]byte("x"), maxPreamble+1)
	for _, b := range [][]byte{big, []byte("fleetfix-pid 9\n")} {
		if _, err := p.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if p.pgid() != 0 || out.Len() != len(big)+len("fleetfix-pid 9\n") {
		t.Errorf("after a huge preamble: pid %d, %d bytes passed", p.pgid(), out.Len())
	}
}
