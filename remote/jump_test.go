package remote

import (
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// dialBehindCut dials the target through the bastion, which is reached
// through a proxy that can cut its connections as a reboot would.
func dialBehindCut(t *testing.T) (*Client, *freezableProxy, Config) {
	t.Helper()
	e := needSSH(t)
	proxy := newFreezableProxy(t, e.bastion.addr())
	bastion := e.proxiedConfig(t, e.bastion, proxy)
	bastion.Name = "bastion"
	cfg := e.config(e.target, knownHostsFile(t, e.target))
	cfg.Jump = &bastion
	c, err := Dial(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, proxy, bastion
}

// cutJump cuts the bastion's connections and waits until the client has
// seen its own connection and its jump host's end.
func cutJump(t *testing.T, c *Client, proxy *freezableProxy) {
	t.Helper()
	lost, jumpLost := c.Lost(), c.jump.Lost()
	proxy.cut()
	for _, ch := range []<-chan struct{}{lost, jumpLost} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("connection still up after the bastion's connections were cut")
		}
	}
}

// TestJumpRedial: a bastion whose connection died (it rebooted) is dialed
// again by the next probe or login through it, host key checked again,
// once per attempt while it stays down.
func TestJumpRedial(t *testing.T) {
	c, proxy, bastion := dialBehindCut(t)
	ctx := testContext(t)

	cutJump(t, c, proxy)
	if err := c.Probe(ctx, 5*time.Second); err != nil {
		t.Fatalf("Probe after the bastion's connection was cut: %v", err)
	}
	if n := proxy.accepted.Load(); n != 2 {
		t.Errorf("bastion dialed %d times, want 2 (the dial, one redial)", n)
	}
	if err := c.Reconnect(ctx); err != nil {
		t.Fatalf("Reconnect after the redial: %v", err)
	}
	if out, err := c.Run(ctx, "echo", "back"); err != nil || string(out) != "back\n" {
		t.Fatalf("Run after the bastion came back = %q, %v", out, err)
	}

	// Still down: each probe redials once, and fails naming the bastion.
	proxy.refusing.Store(true)
	cutJump(t, c, proxy)
	for i := range 3 {
		before := proxy.accepted.Load()
		err := c.Probe(ctx, 5*time.Second)
		if err == nil || !strings.Contains(err.Error(), "via jump host bastion") || !strings.Contains(err.Error(), "redial") {
			t.Fatalf("probe %d through a bastion that is down: %v", i, err)
		}
		if n := proxy.accepted.Load() - before; n != 1 {
			t.Errorf("probe %d dialed the bastion %d times, want 1", i, n)
		}
	}

	// Back, with another host key: the redial refuses it.
	proxy.refusing.Store(false)
	if err := os.WriteFile(bastion.KnownHosts[0], nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var hkErr *HostKeyError
	if err := c.Probe(ctx, 5*time.Second); !errors.As(err, &hkErr) || !hkErr.Unknown || hkErr.Host != "bastion" {
		t.Fatalf("Probe through a bastion whose key is unknown: %v, want its *HostKeyError", err)
	}
}

// TestJumpNoRedialWhenTargetRefuses: the bastion answering that the target
// refused is a live bastion; it is not dialed again.
func TestJumpNoRedialWhenTargetRefuses(t *testing.T) {
	c, proxy, _ := dialBehindCut(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	closed := &Client{cfg: Config{Name: "closed", Address: "127.0.0.1", Port: port}, jump: c.jump}
	err = closed.Probe(testContext(t), 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "via jump host bastion") || !strings.Contains(err.Error(), "connect failed") {
		t.Errorf("Probe of a closed port behind the bastion: %v", err)
	}
	if n := proxy.accepted.Load(); n != 1 {
		t.Errorf("bastion dialed %d times, want 1: a refusal behind it is no reason to redial", n)
	}
}
