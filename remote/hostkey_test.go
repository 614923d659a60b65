package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

func newTestHostKey(t testing.TB) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// checkHostKey does the host key part of a dial of addr, whose host presents
// key.
func checkHostKey(cfg Config, addr string, key ssh.PublicKey) error {
	hk, err := newHostKeyChecker(cfg, addr)
	if err != nil {
		return err
	}
	remoteAddr, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return err
	}
	return hk.check(addr, remoteAddr, key)
}

// hostKeyOutcome is "ok", "unknown" or "changed".
func hostKeyOutcome(t testing.TB, err error) string {
	t.Helper()
	var hkErr *HostKeyError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &hkErr) && hkErr.Unknown:
		return "unknown"
	case errors.As(err, &hkErr):
		return "changed"
	}
	t.Fatalf("host key check: %v", err)
	return ""
}

func writeFile(t *testing.T, file, content string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, file, content string) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestHostKeyCache(t *testing.T) {
	const addr = "10.0.0.7:22"
	keyA, keyB := newTestHostKey(t), newTestHostKey(t)
	entry := func(k ssh.PublicKey) string { return knownhosts.Line([]string{addr}, k) + "\n" }
	other := knownhosts.Line([]string{"10.0.0.8:22"}, newTestHostKey(t)) + "\n"
	third := knownhosts.Line([]string{"10.0.0.9:22"}, newTestHostKey(t)) + "\n"

	tests := []struct {
		name     string
		initial  string                          // known_hosts when the cache first reads it; "-": no file
		change   func(t *testing.T, file string) // then, before the dial
		present  ssh.PublicKey                   // the key the host presents
		tofu     bool
		want     string // ok, unknown or changed
		reparsed bool
	}{
		{name: "hit", initial: other + entry(keyA), present: keyA, want: "ok"},
		{name: "hit, unknown host", initial: other, present: keyA, want: "unknown"},
		{name: "hit, changed key refused", initial: other + entry(keyA), present: keyB, want: "changed"},
		{name: "hit, changed key refused with TOFU", initial: other + entry(keyA), present: keyB, tofu: true, want: "changed"},
		{name: "appended key seen", initial: other, present: keyA, want: "ok", reparsed: true,
			change: func(t *testing.T, f string) { appendFile(t, f, entry(keyA)) }},
		{name: "append of another host: changed key still refused", initial: other + entry(keyA), present: keyB, want: "changed", reparsed: true,
			change: func(t *testing.T, f string) { appendFile(t, f, third) }},
		{name: "created file seen", initial: "-", present: keyA, want: "ok", reparsed: true,
			change: func(t *testing.T, f string) { writeFile(t, f, entry(keyA)) }},
		{name: "removed file", initial: entry(keyA), present: keyA, want: "unknown", reparsed: true,
			change: func(t *testing.T, f string) {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "replaced file, same size and mtime: old key refused", initial: other + entry(keyA), present: keyA, want: "changed", reparsed: true,
			change: func(t *testing.T, f string) { replaceKeepingStat(t, f, other+entry(keyB)) }},
		{name: "replaced file, same size and mtime: new key accepted", initial: other + entry(keyA), present: keyB, want: "ok", reparsed: true,
			change: func(t *testing.T, f string) { replaceKeepingStat(t, f, other+entry(keyB)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "known_hosts")
			if tc.initial != "-" {
				writeFile(t, file, tc.initial)
			}
			cache := NewHostKeyCache()
			files := []string{file}
			first, err := cache.load(files)
			if err != nil {
				t.Fatal(err)
			}
			if tc.change != nil {
				tc.change(t, file)
			}
			before, _ := os.ReadFile(file)

			cfg := Config{Name: "web", KnownHosts: files, TrustOnFirstUse: tc.tofu, HostKeyCache: cache}
			if got := hostKeyOutcome(t, checkHostKey(cfg, addr, tc.present)); got != tc.want {
				t.Errorf("host key check: %s, want %s", got, tc.want)
			}
			if after, _ := os.ReadFile(file); string(after) != string(before) {
				t.Errorf("known_hosts modified: %q", after)
			}
			// The checker took its db from the cache, so a load now
			// returns it.
			used, err := cache.load(files)
			if err != nil {
				t.Fatal(err)
			}
			if reparsed := used != first; reparsed != tc.reparsed {
				t.Errorf("reparsed = %v, want %v", reparsed, tc.reparsed)
			}
		})
	}
}

// replaceKeepingStat replaces file by a new one (rename, as ssh-keygen -R
// does) with the same size and modification time: only the inode differs.
func replaceKeepingStat(t *testing.T, file, content string) {
	t.Helper()
	old, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(content)) != old.Size() {
		t.Fatalf("new content is %d bytes, old %d", len(content), old.Size())
	}
	tmp := file + ".new"
	writeFile(t, tmp, content)
	if err := os.Chtimes(tmp, old.ModTime(), old.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
}

// TestHostKeyCacheTrustOnFirstUse: a key recorded by TOFU through the cache
// is seen by the next dial, which then refuses another key for the host.
func TestHostKeyCacheTrustOnFirstUse(t *testing.T) {
	const addr = "10.0.0.7:22"
	file := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, file, knownhosts.Line([]string{"10.0.0.8:22"}, newTestHostKey(t))+"\n")
	key := newTestHostKey(t)
	cfg := Config{Name: "web", KnownHosts: []string{file}, HostKeyCache: NewHostKeyCache()}

	steps := []struct {
		name    string
		tofu    bool
		present ssh.PublicKey
		want    string
	}{
		{"strict, unknown", false, key, "unknown"},
		{"TOFU records", true, key, "ok"},
		{"strict, now known", false, key, "ok"},
		{"strict, changed", false, newTestHostKey(t), "changed"},
		{"TOFU, changed", true, newTestHostKey(t), "changed"},
	}
	for _, s := range steps {
		cfg.TrustOnFirstUse = s.tofu
		if got := hostKeyOutcome(t, checkHostKey(cfg, addr, s.present)); got != s.want {
			t.Errorf("%s: %s, want %s", s.name, got, s.want)
		}
	}
	data, _ := os.ReadFile(file)
	if n := strings.Count(string(data), "\n"); n != 2 {
		t.Errorf("known_hosts has %d lines, want 2:\n%s", n, data)
	}
}

// TestHostKeyCacheConcurrent dials many hosts at once through one cache,
// half of them recorded by TOFU meanwhile; run it with -race.
func TestHostKeyCacheConcurrent(t *testing.T) {
	const hosts = 16
	file := filepath.Join(t.TempDir(), "known_hosts")
	addrs := make([]string, hosts)
	keys := make([]ssh.PublicKey, hosts)
	var initial strings.Builder
	for i := range hosts {
		addrs[i] = fmt.Sprintf("10.0.1.%d:22", i+1)
		keys[i] = newTestHostKey(t)
		if i%2 == 0 {
			initial.WriteString(knownhosts.Line([]string{addrs[i]}, keys[i]) + "\n")
		}
	}
	writeFile(t, file, initial.String())
	cache := NewHostKeyCache()
	wrongKey := newTestHostKey(t)

	var wg sync.WaitGroup
	errs := make(chan error, 3*hosts)
	for i := range hosts {
		wg.Go(func() {
			cfg := Config{Name: addrs[i], KnownHosts: []string{file}, HostKeyCache: cache}
			// Odd hosts are unknown until their own TOFU dial.
			cfg.TrustOnFirstUse = i%2 == 1
			if err := checkHostKey(cfg, addrs[i], keys[i]); err != nil {
				errs <- fmt.Errorf("%s: first dial: %w", addrs[i], err)
			}
			cfg.TrustOnFirstUse = false
			if err := checkHostKey(cfg, addrs[i], keys[i]); err != nil {
				errs <- fmt.Errorf("%s: second dial: %w", addrs[i], err)
			}
			var hkErr *HostKeyError
			if err := checkHostKey(cfg, addrs[i], wrongKey); !errors.As(err, &hkErr) || hkErr.Unknown {
				errs <- fmt.Errorf("%s: other key: %v, want a changed host key", addrs[i], err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	data, _ := os.ReadFile(file)
	if n := strings.Count(string(data), "\n"); n != hosts {
		t.Errorf("known_hosts has %d lines, want %d:\n%s", n, hosts, data)
	}
}

// TestDialHostKeyCache: real dials sharing a cache see each other's TOFU
// records and still refuse what they refuse without it.
func TestDialHostKeyCache(t *testing.T) {
	e := needSSH(t)
	kh := knownHostsFile(t, e.bastion)
	cache := NewHostKeyCache()
	dial := func(s *sshdProc, tofu bool) error {
		cfg := e.config(s, kh)
		cfg.TrustOnFirstUse, cfg.HostKeyCache = tofu, cache
		c, err := Dial(testContext(t), cfg)
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(e.bastion, false); err != nil {
		t.Fatalf("known bastion: %v", err)
	}
	var hkErr *HostKeyError
	if err := dial(e.target, false); !errors.As(err, &hkErr) || !hkErr.Unknown {
		t.Fatalf("unknown target: %v, want unknown *HostKeyError", err)
	}
	if err := dial(e.target, true); err != nil {
		t.Fatalf("TOFU target: %v", err)
	}
	if err := dial(e.target, false); err != nil {
		t.Fatalf("target after TOFU: %v", err)
	}

	// The bastion's key recorded under the target's address: changed.
	writeFile(t, kh, knownhosts.Line([]string{e.target.addr()}, e.bastion.hostKey.PublicKey())+"\n")
	for _, tofu := range []bool{false, true} {
		if err := dial(e.target, tofu); !errors.As(err, &hkErr) || hkErr.Unknown {
			t.Errorf("changed key, TOFU %v: %v, want changed *HostKeyError", tofu, err)
		}
	}
}
