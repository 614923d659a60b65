package remote

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// startupsSSHD is an sshd that drops every unauthenticated connection
// beyond two at once (MaxStartups 2), stopped when the test ends.
func startupsSSHD(t *testing.T) *sshdProc {
	t.Helper()
	e := needSSH(t)
	p, err := startSSHD(t.TempDir(), "startups", e.authKeys, "", "MaxStartups 2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.kill)
	return p
}

// holdStartups opens n TCP connections to p that never authenticate, so
// that p counts them against MaxStartups; release closes them. sshd counts
// a closed connection out a moment later: one it dropped meanwhile is
// opened again.
func holdStartups(t *testing.T, p *sshdProc, n int) (release func()) {
	t.Helper()
	var conns []net.Conn
	var once sync.Once
	release = func() {
		once.Do(func() {
			for _, c := range conns {
				c.Close()
			}
		})
	}
	t.Cleanup(release)
	deadline := time.Now().Add(5 * time.Second)
	for len(conns) < n {
		c, err := net.Dial("tcp", p.addr())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(deadline)
		line, err := bufio.NewReader(c).ReadString('\n')
		switch {
		case err != nil:
			t.Fatalf("held connection: %v", err)
		case strings.HasPrefix(line, "SSH-"):
			conns = append(conns, c)
		default: // dropped
			c.Close()
			time.Sleep(20 * time.Millisecond)
		}
	}
	return release
}

// TestConnectRetries: a handshake sshd drops past MaxStartups fails at
// once without retries, and is retried after a backoff with them.
func TestConnectRetries(t *testing.T) {
	e := needSSH(t)
	p := startupsSSHD(t)
	cfg := e.config(p, knownHostsFile(t, p))
	release := holdStartups(t, p, 2)

	_, err := Dial(testContext(t), cfg)
	if err == nil || !dropped(err) {
		t.Fatalf("dial past MaxStartups without retries: err %v, want a dropped handshake", err)
	}
	cfg.ConnectRetries = 2
	time.AfterFunc(100*time.Millisecond, release)
	c, err := Dial(testContext(t), cfg)
	if err != nil {
		t.Fatalf("dial with retries once the startups were released: %v", err)
	}
	c.Close()
}

// TestManyHostsBehindOneBastion: 20 hosts dialed at once through a bastion
// with MaxStartups 2 all connect, over at most 4 connections to it (the
// JumpPool), and the last host to close closes them. The shared
// Handshakes lets one bastion handshake run at a time, and retries cover
// the moment sshd takes to count a finished one out: a limit equal to
// MaxStartups races that moment, hence the default of 8 under OpenSSH's 10.
func TestManyHostsBehindOneBastion(t *testing.T) {
	e := needSSH(t)
	p := startupsSSHD(t)
	proxy := newFreezableProxy(t, p.addr())
	bastion := e.proxiedConfig(t, p, proxy)
	bastion.Handshakes, bastion.MaxStartups, bastion.ConnectRetries = NewHandshakes(), 1, 2
	cfg := e.config(e.target, knownHostsFile(t, e.target))
	cfg.Jump, cfg.JumpPool = &bastion, NewJumpPool(4)
	ctx, cancel := context.WithTimeout(testContext(t), 30*time.Second)
	defer cancel()
	type result struct {
		c   *Client
		err error
	}
	results := make(chan result, 20)
	for range 20 {
		go func() {
			c, err := Dial(ctx, cfg)
			if err == nil {
				_, err = c.Run(ctx, "true")
			}
			results <- result{c, err}
		}()
	}
	var clients []*Client
	for range 20 {
		r := <-results
		if r.err != nil {
			t.Error(r.err)
		}
		if r.c != nil {
			clients = append(clients, r.c)
		}
	}
	if n := proxy.accepted.Load(); n < 1 || n > 4 {
		t.Errorf("%d connections to the bastion for 20 hosts, want 1-4", n)
	}
	for _, c := range clients {
		c.Close()
	}
	if n := len(cfg.JumpPool.jumps); n != 0 {
		t.Errorf("%d jump sets left in the pool after every host closed", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for proxy.open.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := proxy.open.Load(); n != 0 {
		t.Errorf("%d bastion connections still open after every host closed", n)
	}
	if n := len(bastion.Handshakes.slots); n != 0 {
		t.Errorf("%d handshake slot entries left", n)
	}
}

// TestBackoff: the jitter keeps each wait within half and one and a half
// times its mean, which doubles per attempt.
func TestBackoff(t *testing.T) {
	for attempt := range 4 {
		mean := retryBase << attempt
		for range 100 {
			if d := backoff(attempt); d < mean/2 || d >= mean*3/2 {
				t.Fatalf("backoff(%d) = %s, want [%s, %s)", attempt, d, mean/2, mean*3/2)
			}
		}
	}
}

// TestJumpPoolReconnect: a host's Reconnect keeps the pooled bastion
// connection, which another host still uses; a bastion connection that
// died is redialed once for both.
func TestJumpPoolReconnect(t *testing.T) {
	e := needSSH(t)
	proxy := newFreezableProxy(t, e.bastion.addr())
	bastion := e.proxiedConfig(t, e.bastion, proxy)
	cfg := e.config(e.target, knownHostsFile(t, e.target))
	cfg.Jump, cfg.JumpPool = &bastion, NewJumpPool(1)
	ctx := testContext(t)
	var clients [2]*Client
	for i := range clients {
		c, err := Dial(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		clients[i] = c
	}
	if clients[0].jump != clients[1].jump {
		t.Fatal("two hosts behind one bastion, pool of 1: two bastion clients")
	}
	if err := clients[0].Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := clients[1].Run(ctx, "true"); err != nil {
		t.Errorf("the other host after a Reconnect: %v", err)
	}
	if n := proxy.accepted.Load(); n != 1 {
		t.Errorf("bastion dialed %d times, want 1", n)
	}
	cutJump(t, clients[0], proxy)
	for _, c := range clients {
		if err := c.Reconnect(ctx); err != nil {
			t.Fatalf("Reconnect after the bastion's connection was cut: %v", err)
		}
	}
	if n := proxy.accepted.Load(); n != 2 {
		t.Errorf("bastion dialed %d times, want 2 (the dial, one redial)", n)
	}
}
