package remote

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// fleetKnownHosts writes a known_hosts file with one plain ed25519 entry for
// each of n hosts, as TOFU over a fleet leaves it, and returns the file and
// the address and key of a host in the middle.
func fleetKnownHosts(tb testing.TB, n int) (file, addr string, key ssh.PublicKey) {
	tb.Helper()
	var sb strings.Builder
	for i := range n {
		k := newTestHostKey(tb)
		a := net.JoinHostPort("10.0."+strconv.Itoa(i/250)+"."+strconv.Itoa(i%250+1), "22")
		sb.WriteString(knownhosts.Line([]string{a}, k) + "\n")
		if i == n/2 {
			addr, key = a, k
		}
	}
	file = filepath.Join(tb.TempDir(), "known_hosts")
	if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return file, addr, key
}

// BenchmarkHostKeyCheck is the host key work of one dial of a 500-host fleet
// whose keys are all in one known_hosts file.
func BenchmarkHostKeyCheck(b *testing.B) {
	kh, addr, key := fleetKnownHosts(b, 500)
	remoteAddr, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{Name: "web", KnownHosts: []string{kh}}
	dial := func(b *testing.B, cfg Config) {
		b.ReportAllocs()
		for b.Loop() {
			hk, err := newHostKeyChecker(cfg, addr)
			if err != nil {
				b.Fatal(err)
			}
			if err := hk.check(addr, remoteAddr, key); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("per-dial", func(b *testing.B) { dial(b, cfg) })
	cached := cfg
	cached.HostKeyCache = NewHostKeyCache()
	b.Run("cached", func(b *testing.B) { dial(b, cached) })
}

// BenchmarkStderrCopy is what x/crypto/ssh does with a command's stderr:
// io.Copy from the channel (which has no WriteTo) into our writers.
func BenchmarkStderrCopy(b *testing.B) {
	const stderr = "fleetfix-pid 4242\n"
	b.ReportAllocs()
	for b.Loop() {
		pid := &pidFilter{w: &tailBuffer{max: maxStderr}}
		if _, err := io.Copy(pid, onlyReader{strings.NewReader(stderr)}); err != nil {
			b.Fatal(err)
		}
		pid.flush()
	}
}

// onlyReader hides any WriteTo of the reader it wraps, as the SSH channel
// has none.
type onlyReader struct{ io.Reader }

// BenchmarkRun is one command on the test sshd, without and with input:
// what each command of a scan or a rollout costs the controller.
func BenchmarkRun(b *testing.B) {
	e := needSSH(b)
	c := e.dial(b)
	ctx := testContext(b)
	manifest := []byte(strings.Repeat("a manifest line of some length\n", 40))
	b.Run("no-input", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Run(ctx, "true"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("input", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.RunInput(ctx, manifest, "cat"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConnect is what a host costs before its first answer: dial,
// handshake, the first command, close. A scan pays it once per host, a
// rollout twice (before and after the reboot).
func BenchmarkConnect(b *testing.B) {
	e := needSSH(b)
	ctx := testContext(b)
	cfg := e.config(e.target, knownHostsFile(b, e.target))
	cfg.HostKeyCache = NewHostKeyCache()
	b.ReportAllocs()
	for b.Loop() {
		c, err := Dial(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Run(ctx, "true"); err != nil {
			b.Fatal(err)
		}
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
