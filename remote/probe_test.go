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
			conn.Write([]byte("HTTP/1.0 400 Bad Request\r\n"))
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
