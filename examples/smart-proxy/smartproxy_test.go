package smartproxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a running python script.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // valid once done is closed
}

func python(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	return py
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func start(t *testing.T, script string, args ...string) *proc {
	t.Helper()
	out := &syncBuffer{}
	cmd := exec.Command(python(t), append([]string{script}, args...)...)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(filepath.Dir(script))+"/"+filepath.Base(script), out.String())
		}
	})
	return p
}

func run(t *testing.T, script string, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(python(t), append([]string{script}, args...)...).CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestVersion(t *testing.T) {
	python(t)
	t.Parallel()
	for script, want := range map[string]string{
		"buggy/smart-proxy":     "smart-proxy 1.0.0 (buggy)",
		"fixed/smart-proxy":     "smart-proxy 1.0.1 (fixed)",
		"smart-upstream":        "smart-upstream 1.0.0",
		"rule/buggy/rule-proxy": "rule-proxy 2.3.0 (buggy)",
		"rule/fixed/rule-proxy": "rule-proxy 2.3.1 (fixed)",
	} {
		out, code := run(t, script, "--version")
		if code != 0 || strings.TrimSpace(out) != want {
			t.Errorf("%s --version = %q (exit %d), want %q", script, out, code, want)
		}
	}
}

func TestCheckFailsWhenNotListening(t *testing.T) {
	python(t)
	t.Parallel()
	addr := freeAddr(t)
	for _, b := range []string{"buggy/smart-proxy", "fixed/smart-proxy", "rule/buggy/rule-proxy", "rule/fixed/rule-proxy"} {
		if _, code := run(t, b, "--check", "--listen", addr); code != 1 {
			t.Errorf("%s --check on closed %s: exit %d, want 1", b, addr, code)
		}
	}
}

// TestBuildsDifferOnlyInShutdown checks that a diff of the two builds shows
// exactly the fix: the version string and the shutdown method.
func TestBuildsDifferOnlyInShutdown(t *testing.T) {
	version := regexp.MustCompile(`(?m)^VERSION = ".*"$`)
	shutdown := regexp.MustCompile(`(?s)\n    async def shutdown\(.*?\n\n\ndef check\(`)
	norm := func(b []byte) string {
		s := version.ReplaceAllString(string(b), `VERSION = ...`)
		if !shutdown.MatchString(s) {
			t.Fatal("shutdown method not found")
		}
		return shutdown.ReplaceAllString(s, "\n    <shutdown>\n\n\ndef check(")
	}
	for name, pair := range map[string][2][]byte{"smart-proxy": {Buggy, Fixed}, "rule-proxy": {RuleBuggy, RuleFixed}} {
		if norm(pair[0]) != norm(pair[1]) {
			t.Errorf("%s: buggy and fixed builds differ outside VERSION and shutdown()", name)
		}
		if bytes.Equal(pair[0], pair[1]) {
			t.Errorf("%s: buggy and fixed builds are identical", name)
		}
	}
	for name, b := range map[string][]byte{"Buggy": Buggy, "Fixed": Fixed, "Upstream": Upstream, "RuleBuggy": RuleBuggy, "RuleFixed": RuleFixed} {
		if !bytes.HasPrefix(b, []byte("#!/usr/bin/python3\n")) {
			t.Errorf("%s lacks the #!/usr/bin/python3 shebang", name)
		}
	}
	for _, f := range []string{"buggy/smart-proxy", "fixed/smart-proxy", "smart-upstream", "rule/buggy/rule-proxy", "rule/fixed/rule-proxy"} {
		if fi, err := os.Stat(f); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable (%v)", f, err)
		}
	}
	for name, unit := range map[string][]byte{"smart-proxy.service": ProxyUnit, "rule-proxy.service": RuleUnit} {
		if regexp.MustCompile(`(?m)^\s*(TimeoutStopSec|TimeoutSec|KillMode)\s*=`).Match(unit) {
			t.Errorf("%s must keep the default TimeoutStopSec/KillMode (that is the bug)", name)
		}
	}
	if !bytes.Contains(DropIn, []byte("TimeoutStopSec=20s")) || !bytes.Contains(DropIn, []byte("KillMode=mixed")) {
		t.Error("override.conf lacks TimeoutStopSec=20s / KillMode=mixed")
	}
	if !bytes.Contains(UpstreamUnit, []byte("ExecStart=/usr/local/bin/smart-upstream")) {
		t.Error("smart-upstream.service has the wrong ExecStart")
	}
}

// TestSIGTERM runs the real builds against a real upstream: both forward
// traffic; on SIGTERM the buggy build hangs and the fixed one exits 0 fast.
func TestSIGTERM(t *testing.T) {
	python(t)
	upAddr := freeAddr(t)
	up := start(t, "smart-upstream", "--listen", upAddr)
	waitFor(t, "smart-upstream to listen", 5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", upAddr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	t.Run("group", func(t *testing.T) {
		for _, build := range []string{"buggy", "fixed"} {
			t.Run(build, func(t *testing.T) {
				t.Parallel()
				testStop(t, build, upAddr)
			})
		}
	})

	// The upstream itself must stop promptly too.
	sent := time.Now()
	_ = up.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-up.done:
		if c := exitCode(up.err); c != 0 {
			t.Errorf("smart-upstream exit status %d after SIGTERM, want 0", c)
		}
		t.Logf("smart-upstream stopped %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Error("smart-upstream still running 5s after SIGTERM")
	}
}

func testStop(t *testing.T, build, upAddr string) {
	script := build + "/smart-proxy"
	addr := freeAddr(t)
	p := start(t, script, "--listen", addr, "--upstream", upAddr, "--pool", "2")

	waitFor(t, script+" --check", 5*time.Second, func() bool {
		_, code := run(t, script, "--check", "--listen", addr)
		return code == 0
	})
	if !strings.Contains(p.out.String(), fmt.Sprintf("listening on %s, upstream %s, pool 2", addr, upAddr)) {
		t.Errorf("missing ready line in output:\n%s", p.out.String())
	}

	// Forwarding: bytes sent through the proxy come back from the echo upstream.
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := []byte("hello through " + build + "\n")
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo through proxy: got %q, %v; want %q", got, err, msg)
	}
	_ = c.SetDeadline(time.Time{})
	// c now stays open and idle; add one client that never sends anything.
	idle, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	time.Sleep(200 * time.Millisecond) // let the proxy accept it and start its handler

	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	switch build {
	case "buggy":
		select {
		case <-p.done:
			t.Fatalf("buggy build exited %v after SIGTERM (status %d); it should hang", time.Since(sent), exitCode(p.err))
		case <-time.After(2 * time.Second):
			t.Logf("buggy: still running %v after SIGTERM (systemd would SIGKILL it after TimeoutStopSec); killing it",
				time.Since(sent).Round(time.Millisecond))
		}
		if !strings.Contains(p.out.String(), "smart-proxy: SIGTERM received, waiting for 4 connections to finish") {
			t.Errorf("missing SIGTERM log line:\n%s", p.out.String())
		}
		_ = p.cmd.Process.Kill()
		<-p.done
	case "fixed":
		select {
		case <-p.done:
			took := time.Since(sent)
			if code := exitCode(p.err); code != 0 {
				t.Fatalf("fixed build exit status %d after SIGTERM, want 0", code)
			}
			t.Logf("fixed: exited 0 %v after SIGTERM", took.Round(time.Millisecond))
		case <-time.After(5 * time.Second):
			t.Fatal("fixed build still running 5s after SIGTERM")
		}
		out := p.out.String()
		if !strings.Contains(out, "smart-proxy: SIGTERM received, cancelling 4 connections") {
			t.Errorf("missing SIGTERM log line:\n%s", out)
		}
		if m := regexp.MustCompile(`smart-proxy: stopped in (\d+) ms`).FindStringSubmatch(out); m == nil {
			t.Errorf("missing \"stopped in\" log line:\n%s", out)
		} else {
			t.Logf("fixed: self-reported stop time %s ms", m[1])
		}
	}
}
