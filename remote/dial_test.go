package remote

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

func TestConfigDefaults(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip(err)
	}
	tests := []struct {
		name    string
		in      Config
		check   func(Config) bool
		wantErr bool
	}{
		{name: "defaults", in: Config{Address: "10.0.0.2"}, check: func(c Config) bool {
			return c.Name == "10.0.0.2" && c.Port == 22 && c.User == "root" &&
				c.ConnectTimeout == 10*time.Second && c.KeepAlive == 15*time.Second &&
				len(c.KnownHosts) == 1 && c.KnownHosts[0] == filepath.Join(home, ".ssh/known_hosts")
		}},
		{name: "tilde expansion", in: Config{Address: "h", IdentityFiles: []string{"~/.ssh/id", "/abs", "~other/x"}, KnownHosts: []string{"~"}},
			check: func(c Config) bool {
				return c.IdentityFiles[0] == filepath.Join(home, ".ssh/id") && c.IdentityFiles[1] == "/abs" &&
					c.IdentityFiles[2] == "~other/x" && c.KnownHosts[0] == home
			}},
		{name: "explicit values kept", in: Config{Name: "web1", Address: "h", Port: 2222, User: "deploy"}, check: func(c Config) bool {
			return c.Name == "web1" && c.Port == 2222 && c.User == "deploy"
		}},
		{name: "no address", in: Config{}, wantErr: true},
		{name: "bad port", in: Config{Address: "h", Port: 70000}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.withDefaults()
			if (err != nil) != tc.wantErr {
				t.Fatalf("withDefaults: err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && !tc.check(got) {
				t.Errorf("withDefaults = %+v", got)
			}
		})
	}
}

func TestHostKeyErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *HostKeyError
		want []string
	}{
		{"unknown", &HostKeyError{Host: "web1", Addr: "10.0.0.2:2222", Unknown: true, Fingerprint: "SHA256:abc",
			KnownHosts: []string{"/k/known_hosts"}, keyType: "ssh-ed25519"},
			[]string{"web1", "10.0.0.2:2222", "unknown", "SHA256:abc", "/k/known_hosts", "--trust-on-first-use", "ssh-keyscan -p 2222 -t ssh-ed25519 10.0.0.2"}},
		{"changed", &HostKeyError{Host: "web1", Addr: "10.0.0.2:22", Fingerprint: "SHA256:abc",
			KnownHosts: []string{"/k/known_hosts"}, offending: []string{"/k/known_hosts:7"}, keyType: "ssh-ed25519"},
			[]string{"WARNING", "CHANGED", "web1", "SHA256:abc", "/k/known_hosts:7", "man-in-the-middle",
				"never overrides", "ssh-keygen -R '10.0.0.2' -f /k/known_hosts"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestDialKnownHosts(t *testing.T) {
	e := needSSH(t)
	c, err := Dial(testContext(t), e.config(e.target, knownHostsFile(t, e.target)))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	if c.Name() != "target" {
		t.Errorf("Name() = %q", c.Name())
	}
	out, err := c.Run(testContext(t), "echo", "ok")
	if err != nil || string(out) != "ok\n" {
		t.Fatalf("Run = %q, %v", out, err)
	}
}

func TestDialUnknownHost(t *testing.T) {
	e := needSSH(t)
	tests := []struct {
		name       string
		knownHosts string
	}{
		{"missing file", filepath.Join(t.TempDir(), "none")},
		{"other host only", knownHostsFile(t, e.bastion)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.knownHosts)
			_, err := Dial(testContext(t), e.config(e.target, tc.knownHosts))
			var hkErr *HostKeyError
			if !errors.As(err, &hkErr) {
				t.Fatalf("Dial error %v, want *HostKeyError", err)
			}
			wantFP := ssh.FingerprintSHA256(e.target.hostKey.PublicKey())
			if !hkErr.Unknown || hkErr.Fingerprint != wantFP || hkErr.Host != "target" || hkErr.Addr != e.target.addr() {
				t.Errorf("HostKeyError = %+v, want unknown target with %s", hkErr, wantFP)
			}
			if !strings.Contains(err.Error(), "--trust-on-first-use") {
				t.Errorf("message does not mention --trust-on-first-use: %v", err)
			}
			after, _ := os.ReadFile(tc.knownHosts)
			if string(before) != string(after) {
				t.Errorf("known_hosts modified without TrustOnFirstUse")
			}
		})
	}
}

func TestDialChangedKey(t *testing.T) {
	e := needSSH(t)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	content := "# comment\n" + knownhosts.Line([]string{e.target.addr()}, otherKey) + "\n"
	if err := os.WriteFile(kh, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tofu := range []bool{false, true} {
		t.Run("tofu="+strconv.FormatBool(tofu), func(t *testing.T) {
			cfg := e.config(e.target, kh)
			cfg.TrustOnFirstUse = tofu
			c, err := Dial(testContext(t), cfg)
			if err == nil {
				c.Close()
				t.Fatal("Dial accepted a changed host key")
			}
			var hkErr *HostKeyError
			if !errors.As(err, &hkErr) || hkErr.Unknown {
				t.Fatalf("Dial error %v, want changed *HostKeyError", err)
			}
			if len(hkErr.KnownHosts) != 1 || hkErr.KnownHosts[0] != kh || !strings.Contains(err.Error(), kh+":2") {
				t.Errorf("error does not name %s:2: %v (KnownHosts %q)", kh, err, hkErr.KnownHosts)
			}
			if got, _ := os.ReadFile(kh); string(got) != content {
				t.Errorf("known_hosts modified: %q", got)
			}
		})
	}
}

func TestDialTrustOnFirstUse(t *testing.T) {
	e := needSSH(t)
	kh := filepath.Join(t.TempDir(), "new", "known_hosts") // directory missing too
	cfg := e.config(e.target, kh)
	cfg.TrustOnFirstUse = true
	c, err := Dial(testContext(t), cfg)
	if err != nil {
		t.Fatalf("TOFU Dial: %v", err)
	}
	c.Close()
	fi, err := os.Stat(kh)
	if err != nil {
		t.Fatalf("known_hosts not created: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("known_hosts mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(kh)
	if strings.Count(string(data), "\n") != 1 || !strings.HasPrefix(string(data), "[127.0.0.1]:"+strconv.Itoa(e.target.port)+" ssh-ed25519 ") {
		t.Errorf("known_hosts = %q", data)
	}

	// Now known: a strict dial works and records nothing more.
	cfg.TrustOnFirstUse = false
	c, err = Dial(testContext(t), cfg)
	if err != nil {
		t.Fatalf("strict Dial after TOFU: %v", err)
	}
	c.Close()
	if again, _ := os.ReadFile(kh); string(again) != string(data) {
		t.Errorf("known_hosts changed by a strict dial: %q", again)
	}

	// The recorded key really is the target's: the bastion's key on the
	// same name would be a changed key.
	db, err := xknownhosts.New(kh)
	if err != nil {
		t.Fatal(err)
	}
	if err := db(e.target.addr(), &net.TCPAddr{}, e.target.hostKey.PublicKey()); err != nil {
		t.Errorf("recorded key does not match the target: %v", err)
	}
}

func TestDialTrustOnFirstUseAppends(t *testing.T) {
	e := needSSH(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	// An existing entry for another host, without a final newline.
	first := knownhosts.Line([]string{e.bastion.addr()}, e.bastion.hostKey.PublicKey())
	if err := os.WriteFile(kh, []byte(first), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := e.config(e.target, kh)
	cfg.TrustOnFirstUse = true
	c, err := Dial(testContext(t), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	c.Close()
	for _, s := range []*sshdProc{e.bastion, e.target} {
		cfg := e.config(s, kh)
		c, err := Dial(testContext(t), cfg)
		if err != nil {
			t.Fatalf("strict Dial %s: %v", s.name, err)
		}
		c.Close()
	}
}

func TestDialHashedKnownHosts(t *testing.T) {
	e := needSSH(t)
	key := e.target.hostKey.PublicKey()
	line := xknownhosts.HashHostname(knownhosts.Normalize(e.target.addr())) + " " +
		strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "|1|") {
		t.Fatalf("not a hashed entry: %s", line)
	}
	c, err := Dial(testContext(t), e.config(e.target, kh))
	if err != nil {
		t.Fatalf("Dial with hashed known_hosts: %v", err)
	}
	c.Close()
}

func TestDialEncryptedIdentity(t *testing.T) {
	e := needSSH(t)
	pass := []byte("correct horse")
	keyFile := filepath.Join(t.TempDir(), "id_enc")
	if err := writePrivateKey(keyFile, e.userKey, pass); err != nil {
		t.Fatal(err)
	}
	kh := knownHostsFile(t, e.target)
	tests := []struct {
		name    string
		pass    func(string) ([]byte, error)
		wantErr string
	}{
		{"right passphrase", func(string) ([]byte, error) { return []byte(string(pass)), nil }, ""},
		{"no callback", nil, "encrypted and no passphrase source"},
		{"wrong passphrase", func(string) ([]byte, error) { return []byte("wrong"), nil }, keyFile},
		{"callback fails", func(string) ([]byte, error) { return nil, errors.New("no terminal") }, "no terminal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			cfg := e.config(e.target, kh)
			cfg.IdentityFiles = []string{keyFile}
			if tc.pass != nil {
				cfg.Passphrase = func(f string) ([]byte, error) {
					calls++
					if f != keyFile {
						t.Errorf("passphrase asked for %q", f)
					}
					return tc.pass(f)
				}
			}
			c, err := Dial(testContext(t), cfg)
			if tc.wantErr != "" {
				if err == nil {
					c.Close()
					t.Fatal("Dial succeeded")
				}
				if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "target") {
					t.Errorf("error %q lacks %q or the host name", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			if err := c.Reconnect(testContext(t)); err != nil {
				t.Fatalf("Reconnect: %v", err)
			}
			if calls != 1 {
				t.Errorf("passphrase asked %d times over Dial+Reconnect, want 1", calls)
			}
		})
	}
}

func TestDialAgent(t *testing.T) {
	e := needSSH(t)
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: e.userKey}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				_ = agent.ServeAgent(keyring, conn)
			}()
		}
	}()

	cfg := e.config(e.target, knownHostsFile(t, e.target))
	cfg.IdentityFiles = nil
	cfg.Agent = true

	t.Setenv("SSH_AUTH_SOCK", sock)
	c, err := Dial(testContext(t), cfg)
	if err != nil {
		t.Fatalf("Dial with agent: %v", err)
	}
	c.Close()

	t.Setenv("SSH_AUTH_SOCK", "")
	if _, err := Dial(testContext(t), cfg); err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
		t.Errorf("Dial without agent socket: %v, want error naming SSH_AUTH_SOCK", err)
	}
}

func TestDialErrors(t *testing.T) {
	e := needSSH(t)
	kh := knownHostsFile(t, e.target)

	// A port nobody listens on.
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	// A server that accepts TCP but never speaks SSH.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	otherKey := filepath.Join(t.TempDir(), "other")
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	if err := writePrivateKey(otherKey, priv, nil); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{"connection refused", func(c *Config) { c.Port = port }, []string{"dial target (127.0.0.1:" + strconv.Itoa(port) + ")", "refused"}},
		{"handshake timeout", func(c *Config) {
			c.Port = silent.Addr().(*net.TCPAddr).Port
			c.ConnectTimeout = 300 * time.Millisecond
		}, []string{"dial target", "timed out after 300ms"}},
		{"key not authorized", func(c *Config) { c.IdentityFiles = []string{otherKey} }, []string{"dial target", "unable to authenticate"}},
		{"missing identity file", func(c *Config) { c.IdentityFiles = []string{"/nonexistent/id"} }, []string{"dial target", "/nonexistent/id", "no SSH identity"}},
		{"some identities unusable", func(c *Config) { c.IdentityFiles = []string{"/nonexistent/id", otherKey} },
			[]string{"unable to authenticate", "not used: identity open /nonexistent/id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.config(e.target, kh)
			tc.mutate(&cfg)
			start := time.Now()
			c, err := Dial(testContext(t), cfg)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Dial took %v", d)
			}
		})
	}
}

func TestDialContextCancelled(t *testing.T) {
	e := needSSH(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Dial(ctx, e.config(e.target, knownHostsFile(t, e.target)))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with cancelled context: %v, want context.Canceled", err)
	}
}

func TestProxyJump(t *testing.T) {
	e := needSSH(t)
	kh := knownHostsFile(t, e.target, e.bastion)
	cfg := e.config(e.target, kh)
	bastion := e.config(e.bastion, kh)
	cfg.Jump = &bastion

	c, err := Dial(testContext(t), cfg)
	if err != nil {
		t.Fatalf("Dial via jump: %v", err)
	}
	// Through a jump host the connection is an SSH channel, whose
	// addresses are zero; a direct TCP connection would show 127.0.0.1.
	if got := c.conn.RemoteAddr().String(); got != "0.0.0.0:0" {
		t.Errorf("target connection remote address %s: not through the jump host", got)
	}
	if c.jump == nil || c.jump.Name() != "bastion" {
		t.Fatalf("no jump client")
	}
	ctx := testContext(t)
	if out, err := c.Run(ctx, "echo", "via jump"); err != nil || string(out) != "via jump\n" {
		t.Fatalf("Run via jump = %q, %v", out, err)
	}
	dst := filepath.Join(t.TempDir(), "f")
	if _, err := c.Upload(ctx, strings.NewReader("x"), dst, 0o644, ""); err != nil {
		t.Fatalf("Upload via jump: %v", err)
	}
	if err := c.Reconnect(ctx); err != nil {
		t.Fatalf("Reconnect via jump: %v", err)
	}
	if out, err := c.Run(ctx, "echo", "again"); err != nil || string(out) != "again\n" {
		t.Fatalf("Run after Reconnect via jump = %q, %v", out, err)
	}
	jumpConn := c.jump.conn
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, _, err := jumpConn.SendRequest("keepalive@openssh.com", true, nil); err == nil {
		t.Error("jump connection still open after Close")
	}
}

func TestProxyJumpHostKeys(t *testing.T) {
	e := needSSH(t)
	tests := []struct {
		name     string
		known    []*sshdProc
		wantHost string
	}{
		{"bastion unknown", []*sshdProc{e.target}, "bastion"},
		{"target unknown", []*sshdProc{e.bastion}, "target"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kh := knownHostsFile(t, tc.known...)
			cfg := e.config(e.target, kh)
			bastion := e.config(e.bastion, kh)
			cfg.Jump = &bastion
			_, err := Dial(testContext(t), cfg)
			var hkErr *HostKeyError
			if !errors.As(err, &hkErr) || !hkErr.Unknown || hkErr.Host != tc.wantHost {
				t.Fatalf("Dial error %v, want unknown host key of %s", err, tc.wantHost)
			}
		})
	}
}

func TestReconnect(t *testing.T) {
	e := needSSH(t)
	kh := knownHostsFile(t, e.target)
	c, err := Dial(testContext(t), e.config(e.target, kh))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testContext(t)
	// Start SFTP on the first connection, so Reconnect must replace it too.
	if _, err := c.Upload(ctx, strings.NewReader("1"), filepath.Join(t.TempDir(), "f"), 0o644, ""); err != nil {
		t.Fatal(err)
	}
	old := c.conn
	if err := c.Reconnect(ctx); err != nil {
		t.Fatalf("Reconnect: %v", err)
	}
	if c.conn == old {
		t.Fatal("Reconnect kept the old connection")
	}
	if _, _, err := old.SendRequest("keepalive@openssh.com", true, nil); err == nil {
		t.Error("old connection still open")
	}
	if out, err := c.Run(ctx, "echo", "hi"); err != nil || string(out) != "hi\n" {
		t.Fatalf("Run after Reconnect = %q, %v", out, err)
	}
	if _, err := c.Upload(ctx, strings.NewReader("2"), filepath.Join(t.TempDir(), "f"), 0o644, ""); err != nil {
		t.Fatalf("Upload after Reconnect: %v", err)
	}

	// The host key is checked again: forget it and Reconnect must refuse.
	if err := os.WriteFile(kh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err = c.Reconnect(ctx)
	var hkErr *HostKeyError
	if !errors.As(err, &hkErr) || !hkErr.Unknown {
		t.Fatalf("Reconnect with forgotten key: %v, want unknown *HostKeyError", err)
	}
	if _, err := c.Run(ctx, "true"); err == nil {
		t.Error("Run works after a failed Reconnect")
	}

	c.Close()
	if err := c.Reconnect(ctx); err == nil {
		t.Error("Reconnect after Close succeeded")
	}
}

// TestCloseLeavesNoGoroutines checks that keepalive, session and SFTP
// goroutines all end with Close.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	e := needSSH(t)
	ctx := testContext(t)
	kh := knownHostsFile(t, e.target, e.bastion)
	runtime.GC()
	before := runtime.NumGoroutine()

	cfg := e.config(e.target, kh)
	bastion := e.config(e.bastion, kh)
	cfg.Jump = &bastion
	// Short enough for keepalives to run during the test, long enough that
	// a loaded machine (the jump host's sshd answers through two hops) does
	// not miss one and close the connection under the commands.
	cfg.KeepAlive = 250 * time.Millisecond
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(ctx, "true"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(ctx, strings.NewReader("x"), filepath.Join(t.TempDir(), "f"), 0o644, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat(ctx, "/"); err != nil {
		t.Fatal(err)
	}
	if err := c.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // let some keepalives happen
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before Dial, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLost checks that Lost reports the end of the connection it was asked
// about, and only that one.
func TestLost(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	ctx := testContext(t)
	closedWithin := func(ch <-chan struct{}, d time.Duration) bool {
		select {
		case <-ch:
			return true
		case <-time.After(d):
			return false
		}
	}
	lost := c.Lost()
	if _, err := c.Run(ctx, "true"); err != nil {
		t.Fatal(err)
	}
	if closedWithin(lost, 100*time.Millisecond) {
		t.Fatal("Lost closed while the connection is up")
	}
	if err := c.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(lost, 5*time.Second) {
		t.Fatal("Lost not closed after Reconnect replaced the connection")
	}
	lost = c.Lost()
	if closedWithin(lost, 100*time.Millisecond) {
		t.Fatal("Lost of the new connection closed while it is up")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(lost, 5*time.Second) || !closedWithin(c.Lost(), 10*time.Millisecond) {
		t.Fatal("Lost not closed after Close")
	}
}

// dialFrozen dials the target through a freezable proxy, with SFTP started.
func dialFrozen(t *testing.T, keepAlive time.Duration) (*Client, *freezableProxy) {
	t.Helper()
	e := needSSH(t)
	proxy := newFreezableProxy(t, e.target.addr())
	cfg := e.proxiedConfig(t, e.target, proxy)
	cfg.KeepAlive = keepAlive
	c, err := Dial(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Upload(testContext(t), strings.NewReader("x"), filepath.Join(t.TempDir(), "f"), 0o644, ""); err != nil {
		t.Fatal(err)
	}
	return c, proxy
}

// TestCloseDeadConnection closes a client whose peer vanished before
// keepalives noticed; that must not hang.
func TestCloseDeadConnection(t *testing.T) {
	c, proxy := dialFrozen(t, time.Hour)
	proxy.freeze()
	done := make(chan error, 1)
	go func() { done <- c.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close of a dead connection hangs")
	}
}

func TestKeepAliveClosesDeadConnection(t *testing.T) {
	c, proxy := dialFrozen(t, 200*time.Millisecond)
	proxy.freeze()
	// Without keepalives this Run would wait forever for the frozen peer.
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Run(context.Background(), "true")
		errc <- err
	}()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("Run succeeded through a frozen connection")
		}
		if !strings.Contains(err.Error(), "target") {
			t.Errorf("error does not name the host: %v", err)
		}
		t.Logf("Run failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
		if err := c.Close(); err != nil {
			t.Errorf("Close of a connection keepalives gave up on: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("dead connection not closed by keepalive within 10s")
	}
}

// TestRunCancelOnDeadConnection cancels commands stuck on a connection whose
// peer vanished; they must return with ctx, not when keepalives give up.
func TestRunCancelOnDeadConnection(t *testing.T) {
	c, proxy := dialFrozen(t, time.Hour)
	proxy.freeze()
	ops := map[string]func(context.Context) error{
		"Run":  func(ctx context.Context) error { _, err := c.Run(ctx, "true"); return err },
		"Stat": func(ctx context.Context) error { _, err := c.Stat(ctx, "/"); return err },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := op(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v, want context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("returned after %v", d)
			}
		})
	}
}
