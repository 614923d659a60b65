package remote

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	defer c.Close()
	ctx := testContext(t)
	if err := c.Probe(ctx, 2*time.Second); err != nil {
		t.Fatalf("Probe of a running sshd: %v", err)
	}

	// Through a jump host: the probe goes where the target is reachable from.
	cfg := e.config(e.target, knownHostsFile(t, e.target, e.bastion))
	j := e.config(e.bastion, cfg.KnownHosts[0])
	cfg.Jump = &j
	jc, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer jc.Close()
	if err := jc.Probe(ctx, 2*time.Second); err != nil {
		t.Errorf("Probe through a jump host: %v", err)
	}

	// A port that accepts but is not SSH, and one that answers nothing.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte("HTTP/1.0 400 Bad Request\r\n")) // the probe may hang up first
			conn.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	bad := &Client{cfg: Config{Name: "web", Address: "127.0.0.1", Port: port}}
	if err := bad.Probe(ctx, time.Second); err == nil || !strings.Contains(err.Error(), "not an SSH server") {
		t.Errorf("Probe of an HTTP port: %v", err)
	}
	ln.Close()
	if err := bad.Probe(ctx, time.Second); err == nil {
		t.Error("Probe of a closed port succeeded")
	}
}

func TestProbeConnectionCarriesTheNextLogin(t *testing.T) {
	e := needSSH(t)
	ctx := testContext(t)
	fwd := newFreezableProxy(t, e.target.addr()) // never frozen: it counts
	c, err := Dial(ctx, e.proxiedConfig(t, e.target, fwd))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n := fwd.accepted.Load(); n != 1 {
		t.Fatalf("%d connections after Dial, want 1", n)
	}

	// Two probes: the second replaces the first, which is closed.
	for range 2 {
		if err := c.Probe(ctx, 2*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return fwd.open.Load() == 2 }, "the first probe's connection closed")
	if err := c.Reconnect(ctx); err != nil {
		t.Fatalf("Reconnect after a probe: %v", err)
	}
	if out, err := c.Run(ctx, "echo", "hi"); err != nil || string(out) != "hi\n" {
		t.Fatalf("Run over the probe's connection = %q, %v", out, err)
	}
	if n := fwd.accepted.Load(); n != 3 {
		t.Errorf("%d connections after Dial, two probes and a Reconnect, want 3 (the login on the last probe's)", n)
	}

	// A kept probe connection is closed with the client.
	if err := c.Probe(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	c.Close()
	waitFor(t, func() bool { return fwd.open.Load() == 0 }, "every connection closed with the client")
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
