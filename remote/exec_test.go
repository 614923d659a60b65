package remote

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestRun(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	ctx := testContext(t)
	tests := []struct {
		name       string
		argv       []string
		wantOut    string
		wantStatus int // 0: success
		wantStderr string
	}{
		{name: "stdout", argv: []string{"echo", "hello", "world"}, wantOut: "hello world\n"},
		{name: "empty argument kept", argv: []string{"printf", "[%s]", "", "x"}, wantOut: "[][x]"},
		{name: "exit status and stderr", argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"},
			wantOut: "out\n", wantStatus: 3, wantStderr: "err\n"},
		{name: "command not found", argv: []string{"no-such-command-fleetfix"}, wantStatus: 127, wantStderr: "not found"},
		{name: "false", argv: []string{"false"}, wantStatus: 1},
		{name: "stdin is empty", argv: []string{"wc", "-c"}, wantOut: "0\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.Run(ctx, tc.argv...)
			if string(out) != tc.wantOut {
				t.Errorf("stdout %q, want %q", out, tc.wantOut)
			}
			if tc.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				return
			}
			var ee *ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("Run error %v, want *ExitError", err)
			}
			if ee.ExitStatus() != tc.wantStatus || ee.Host != "target" || !bytes.Contains(ee.Stderr, []byte(tc.wantStderr)) {
				t.Errorf("ExitError %+v, want status %d, stderr containing %q", ee, tc.wantStatus, tc.wantStderr)
			}
			msg := err.Error()
			if !strings.Contains(msg, "target") || !strings.Contains(msg, CommandName(tc.argv)) ||
				!strings.Contains(msg, fmt.Sprintf("status %d", tc.wantStatus)) ||
				!strings.Contains(msg, strings.TrimSpace(tc.wantStderr)) || strings.Contains(msg, "\n") {
				t.Errorf("message %q lacks host, command name, status or stderr, or is not one line", msg)
			}
			if !strings.Contains(ee.Detail(), QuoteArgs(tc.argv)) {
				t.Errorf("Detail %q lacks the command", ee.Detail())
			}
		})
	}
	if _, err := c.Run(ctx); err == nil {
		t.Error("Run with no argv succeeded")
	}
	if _, err := c.Run(ctx, "echo", "a\x00b"); err == nil {
		t.Error("Run with a NUL byte succeeded")
	}
}

func TestRunInput(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	ctx := testContext(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	tests := []struct {
		name  string
		stdin []byte
		argv  []string
		want  string
	}{
		{"cat", []byte("line 1\nline 2\n$(id) `id`\n"), []string{"cat"}, "line 1\nline 2\n$(id) `id`\n"},
		{"no final newline", []byte("x"), []string{"cat"}, "x"},
		{"empty", nil, []string{"cat"}, ""},
		{"large", big, []string{"wc", "-c"}, fmt.Sprintf("%d\n", len(big))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.RunInput(ctx, tc.stdin, tc.argv...)
			if err != nil {
				t.Fatalf("RunInput: %v", err)
			}
			if string(out) != tc.want {
				t.Errorf("stdout %q, want %q", out, tc.want)
			}
		})
	}
}

// TestRunInputUnread: input the command does not read, more than the SSH
// window holds, must not hang the call, nor its cancellation.
func TestRunInputUnread(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	huge := bytes.Repeat([]byte("x"), 8<<20)
	// The write fails once the command is gone: an error, as with
	// x/crypto/ssh copying a Stdin reader, but a prompt one.
	if _, err := c.RunInput(testContext(t), huge, "true"); err == nil {
		t.Errorf("RunInput of unread input succeeded")
	}
	ctx, cancel := context.WithTimeout(testContext(t), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.RunInput(ctx, huge, "sleep", "30"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled RunInput: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancelled RunInput took %v", d)
	}
}

// TestRunConcurrent runs more commands at once than OpenSSH allows sessions
// per connection; the client must queue rather than fail.
func TestRunConcurrent(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, 25)
	for i := 0; i < 25; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := c.Run(ctx, "sh", "-c", "sleep 0.2; echo $1", "sh", fmt.Sprint(i))
			if err == nil && string(out) != fmt.Sprintf("%d\n", i) {
				err = fmt.Errorf("run %d: got %q", i, out)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRunContextCancel(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	// A distinctive argument to find the remote process by.
	marker := fmt.Sprintf("%d.%03d", 29, time.Now().UnixNano()%1000)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, "sleep", marker)
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run error %v, want context.DeadlineExceeded", err)
	}
	if elapsed > 10*time.Second {
		t.Fatalf("cancelled Run returned after %v", elapsed)
	}
	t.Logf("cancelled Run returned after %v", elapsed.Round(time.Millisecond))

	// The remote command was signalled, not left running.
	deadline := time.Now().Add(5 * time.Second)
	for processRunning(t, "sleep", marker) {
		if time.Now().After(deadline) {
			t.Fatalf("remote `sleep %s` still running after cancellation", marker)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The connection is still usable.
	if out, err := c.Run(testContext(t), "echo", "alive"); err != nil || string(out) != "alive\n" {
		t.Errorf("Run after cancel = %q, %v", out, err)
	}
}

// processRunning reports whether a local process has exactly argv as its
// command line (the test host is this machine).
func processRunning(t *testing.T, argv ...string) bool {
	t.Helper()
	want := strings.Join(argv, "\x00") + "\x00"
	cmdlines, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err == nil && string(b) == want {
			return true
		}
	}
	return false
}

// TestInjection passes paths and arguments full of shell syntax through
// every operation and checks that none of it was executed.
func TestInjection(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	ctx := testContext(t)
	base := t.TempDir()
	pwned := filepath.Join(base, "pwned")
	// The slashes inside make some of this a directory path; the file name
	// proper still holds quotes, $(), backticks, ;, a newline and a glob.
	evil := filepath.Join(base, "a b'c$(touch "+pwned+")", "`touch "+pwned+"`;touch "+pwned+"\n\"$HOME\"*&|x")
	if err := os.MkdirAll(filepath.Dir(evil), 0o755); err != nil {
		t.Fatal(err)
	}
	content := "evil content\n"

	sum, err := c.Upload(ctx, strings.NewReader(content), evil, 0o640, "")
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if got, err := os.ReadFile(evil); err != nil || string(got) != content {
		t.Fatalf("uploaded file: %q, %v", got, err)
	}
	fi, err := c.Stat(ctx, evil)
	if err != nil || !fi.Exists || fi.SHA256 != sum || fi.Mode != 0o640 || fi.Path != evil {
		t.Fatalf("Stat = %+v, %v", fi, err)
	}
	if fi, err := c.Stat(ctx, evil+"$(touch "+pwned+")"); err != nil || fi.Exists {
		t.Fatalf("Stat of missing evil path = %+v, %v", fi, err)
	}
	out, err := c.Run(ctx, "cat", evil)
	if err != nil || string(out) != content {
		t.Fatalf("Run cat = %q, %v", out, err)
	}
	args := []string{"$(touch " + pwned + ")", "`touch " + pwned + "`", "; touch " + pwned, "| touch " + pwned,
		"&& touch " + pwned, "'; touch " + pwned + "; '", "\"; touch " + pwned + "; \"", "\ntouch " + pwned, "*", "~", "$HOME", `\`}
	out, err = c.Run(ctx, append([]string{"printf", "%s\\0"}, args...)...)
	if err != nil {
		t.Fatalf("Run printf: %v", err)
	}
	if want := strings.Join(args, "\x00") + "\x00"; string(out) != want {
		t.Errorf("printf got %q, want %q", out, want)
	}
	input := "$(touch " + pwned + ")"
	if _, err = c.RunInput(ctx, []byte(input), "sh", "-c", `cat > "$1"`, "sh", evil); err != nil {
		t.Fatalf("RunInput: %v", err)
	}
	if got, _ := os.ReadFile(evil); string(got) != input {
		t.Errorf("RunInput wrote %q, want %q", got, input)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Fatal("injected command was executed: " + pwned + " exists")
	}
}

// TestBecome runs the sudo code paths against the test sshd, whose sessions
// find fakeSudo first in PATH. The login is root, so the client is told to
// use sudo anyway (sudoRoot), which Config alone never does for root.
func TestBecome(t *testing.T) {
	e := needSSH(t)
	tests := []becomeCase{
		{name: "password", sudoPW: becomePassword, clientPW: ptr(becomePassword), wantLog: []string{"-k -S -p " + sudoPrompt + "  -- sh -c"}, attempts: 1},
		{name: "nopasswd config", nopasswd: true, wantLog: []string{"-n -- cat"}},
		{name: "password but nopasswd rule", sudoPW: becomePassword, nopasswd: true, clientPW: ptr(becomePassword),
			wantLog: []string{"-k -S -p " + sudoPrompt + "  -- sh -c", "-n -- cat"}},
		// One attempt, not two: pam_faillock locks accounts by the count.
		{name: "wrong password", sudoPW: "other", clientPW: ptr(becomePassword), wantErr: "sudo: wrong password or user not allowed", attempts: 1},
		{name: "password needed", sudoPW: becomePassword, wantErr: "a password is required but none is configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkBecome(t, e, tc) })
	}
}

// becomePassword is the password of TestBecome's sudo, with what a shell
// would split or expand.
const becomePassword = "pw with spaces ' \" $(x)"

// becomeCase is what TestBecome's fake sudo accepts, what the client is
// configured with, and what must come of a command run through sudo.
type becomeCase struct {
	name     string
	sudoPW   string // what (fake) sudo accepts
	nopasswd bool
	clientPW *string // nil: NOPASSWD config
	wantErr  string
	wantLog  []string // prefixes of sudo invocations, in order
	attempts int      // password attempts sudo saw
}

// checkBecome runs cat through sudo as tc configures it and checks what sudo
// saw and what came out, then Upload and Stat through the same sudo.
func checkBecome(t *testing.T, e *sshEnv, tc becomeCase) {
	t.Helper()
	data := []byte("stdin data\nsecond line\n")
	fakeSudoState(t, e.sudoState, tc.sudoPW, tc.nopasswd)
	cfg := e.config(e.target, knownHostsFile(t, e.target))
	cfg.Become = true
	calls := 0
	if tc.clientPW != nil {
		cfg.BecomePassword = func() ([]byte, error) {
			calls++
			return []byte(*tc.clientPW), nil
		}
	}
	c, err := Dial(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.sudoRoot = true

	out, err := c.RunInput(testContext(t), data, "cat")
	log, _ := os.ReadFile(filepath.Join(e.sudoState, "argv.log"))
	attempts, _ := os.ReadFile(filepath.Join(e.sudoState, "attempts"))
	if n := strings.Count(string(attempts), "attempt"); n != tc.attempts {
		t.Errorf("sudo saw %d password attempts, want %d", n, tc.attempts)
	}
	if strings.Contains(string(log), becomePassword) {
		t.Errorf("password in sudo's argv: %q", log)
	}
	if bytes.Contains(out, []byte(becomePassword)) || bytes.Contains(out, []byte(sudoMarker)) {
		t.Errorf("password or marker reached the command: %q", out)
	}
	if tc.wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Fatalf("RunInput error %v, want %q", err, tc.wantErr)
		}
		if strings.Contains(err.Error(), becomePassword) {
			t.Errorf("password in error: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("RunInput: %v", err)
	}
	if string(out) != string(data) {
		t.Errorf("stdout %q, want %q", out, data)
	}
	lines := strings.Split(strings.TrimSuffix(string(log), "\n"), "\n")
	if len(lines) != len(tc.wantLog) {
		t.Fatalf("sudo ran %d times, want %d: %q", len(lines), len(tc.wantLog), lines)
	}
	for i, w := range tc.wantLog {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("sudo invocation %d: %q, want prefix %q", i, lines[i], w)
		}
	}

	// The password is asked for once per Client.
	checkUploadBecome(t, e, c)
	if tc.clientPW != nil && calls != 1 {
		t.Errorf("BecomePassword called %d times, want 1", calls)
	}
}

// checkUploadBecome checks that Stat and Upload go through sudo too. The
// fake sudo gives no root: a run as another user (go test -short) can only
// chown to itself.
func checkUploadBecome(t *testing.T, e *sshEnv, c *Client) {
	t.Helper()
	owner := "nobody"
	if os.Geteuid() != 0 {
		owner = e.user
	}
	dst := filepath.Join(t.TempDir(), "up")
	staged := stagingDirs(t)
	sum, err := c.Upload(testContext(t), strings.NewReader("as root"), dst, 0o600, owner)
	if err != nil {
		t.Fatalf("Upload with Become: %v", err)
	}
	fi, err := c.Stat(testContext(t), dst)
	if err != nil || fi.SHA256 != sum || fi.Owner != owner || fi.Mode != 0o600 {
		t.Errorf("Stat after Upload = %+v, %v", fi, err)
	}
	if left := newEntries(staged, stagingDirs(t)); len(left) > 0 {
		t.Errorf("staging directories left behind: %q", left)
	}
}

func ptr[T any](v T) *T { return &v }

func stagingDirs(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob("/tmp/fleetfix.*")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newEntries(before, after []string) []string {
	seen := map[string]bool{}
	for _, b := range before {
		seen[b] = true
	}
	var out []string
	for _, a := range after {
		if !seen[a] {
			out = append(out, a)
		}
	}
	return out
}

// refusingConn is an SSH client connected, over loopback, to a server that
// refuses the first refusals session opens with reason and accepts the
// rest; opens counts the opens it saw.
func refusingConn(t *testing.T, refusals int32, reason ssh.RejectionReason) (c *ssh.Client, opens *atomic.Int32) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{NoClientAuth: true}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	opens = new(atomic.Int32)
	go func() {
		sside, err := ln.Accept()
		if err != nil {
			return
		}
		_, chans, reqs, err := ssh.NewServerConn(sside, cfg)
		if err != nil {
			return
		}
		go ssh.DiscardRequests(reqs)
		for nch := range chans {
			if opens.Add(1) <= refusals {
				_ = nch.Reject(reason, "open failed")
				continue
			}
			if _, creqs, err := nch.Accept(); err == nil {
				go ssh.DiscardRequests(creqs)
			}
		}
	}()
	c, err = ssh.Dial("tcp", ln.Addr().String(), &ssh.ClientConfig{
		User: "t", HostKeyCallback: ssh.FixedHostKey(signer.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, opens
}

func TestNewSessionRetriesARefusal(t *testing.T) {
	tests := []struct {
		name      string
		refusals  int32
		reason    ssh.RejectionReason
		wantErr   bool
		wantOpens int32
	}{
		{name: "opens at once", refusals: 0, reason: ssh.ConnectionFailed, wantOpens: 1},
		{name: "sshd still counts closed sessions", refusals: 2, reason: ssh.ConnectionFailed, wantOpens: 3},
		{name: "gives up", refusals: sessionTries + 1, reason: ssh.ConnectionFailed, wantErr: true, wantOpens: sessionTries},
		{name: "other refusals are final", refusals: 1, reason: ssh.Prohibited, wantErr: true, wantOpens: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, opens := refusingConn(t, tt.refusals, tt.reason)
			sess, err := newSession(testContext(t), c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("newSession: %v, want error %v", err, tt.wantErr)
			}
			if sess != nil {
				_ = sess.Close()
			}
			// The server counted the open before it answered it.
			if n := opens.Load(); n != tt.wantOpens {
				t.Errorf("%d opens, want %d", n, tt.wantOpens)
			}
		})
	}
}
