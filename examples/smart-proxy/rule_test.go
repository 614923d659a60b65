package smartproxy

import (
	"bufio"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRuleProxySIGTERM runs both rule-proxy builds against a real rule feed
// (smart-upstream): each answers by its rules; on SIGTERM, with its feed
// connection and one client in flight, the buggy build hangs and the fixed
// one cancels both and exits 0.
func TestRuleProxySIGTERM(t *testing.T) {
	python(t)
	feed := freeAddr(t)
	start(t, "smart-upstream", "--listen", feed)
	for _, tt := range []struct{ build, log string }{
		{"buggy", "rule-proxy: SIGTERM received, waiting for 2 in-flight handlers"},
		{"fixed", "rule-proxy: SIGTERM received, cancelled 2 in-flight handlers"},
	} {
		t.Run(tt.build, func(t *testing.T) {
			script := "rule/" + tt.build + "/rule-proxy"
			addr := freeAddr(t)
			p := start(t, script, "--listen", addr, "--feed", feed)
			waitFor(t, script+" --check", 5*time.Second, func() bool {
				_, code := run(t, script, "--check", "--listen", addr)
				return code == 0
			})
			waitFor(t, "the ready line", 5*time.Second, func() bool {
				return strings.Contains(p.out.String(), "listening on")
			})
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(3 * time.Second))
			if _, err := c.Write([]byte("/admin/users\n/shop\n")); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(c)
			for _, want := range []string{"deny\n", "allow\n"} {
				if got, err := r.ReadString('\n'); got != want {
					t.Fatalf("answer %q (%v), want %q", got, err, want)
				}
			}
			_ = c.SetDeadline(time.Time{})
			time.Sleep(200 * time.Millisecond) // the feed connection is up by now
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-p.done:
				if tt.build == "buggy" {
					t.Fatalf("buggy build exited after SIGTERM (status %d); it should hang", exitCode(p.err))
				}
				if code := exitCode(p.err); code != 0 {
					t.Errorf("fixed build exit status %d after SIGTERM, want 0", code)
				}
			case <-time.After(2 * time.Second):
				if tt.build == "fixed" {
					t.Fatal("fixed build still running 2s after SIGTERM")
				}
			}
			if !strings.Contains(p.out.String(), tt.log) {
				t.Errorf("missing %q in the output:\n%s", tt.log, p.out.String())
			}
		})
	}
}
