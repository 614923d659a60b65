package remote

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Probe checks, without logging in, that the host's sshd accepts
// connections: a TCP connect (through the jump host, if any) and the server's
// SSH identification line. A reboot wait polls it at sub-second intervals; a
// probe costs the host a TCP accept and a banner, not a login session that a
// shutting-down systemd would have to stop.
//
// On a direct connection, the probe's connection is kept for up to
// probeReuse: the login a reboot wait makes right after the first answered
// probe runs its handshake on it, rather than connecting again and waiting
// for another sshd to start and send its banner.
//
// A dead jump connection is dialed again within ctx, not within timeout.
func (c *Client) Probe(ctx context.Context, timeout time.Duration) error {
	outer := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := c.dialTransport(ctx, outer, c.addr())
	if err != nil {
		return fmt.Errorf("probe %s: %w", c.cfg.Name, err)
	}
	// A connection through a jump host has no deadlines: closing it is what
	// ends a read that hangs. A probe's failed connection is dropped: its
	// close error adds nothing to the probe's.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	br := bufio.NewReaderSize(conn, 256)
	line, err := br.ReadString('\n')
	if !stop() {
		_ = conn.Close()
		return fmt.Errorf("probe %s: no SSH banner within %s", c.cfg.Name, timeout)
	}
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("probe %s: %w", c.cfg.Name, err)
	}
	if !strings.HasPrefix(line, "SSH-") {
		_ = conn.Close()
		return fmt.Errorf("probe %s: not an SSH server: %q", c.cfg.Name, strings.TrimSpace(line))
	}
	rest, _ := br.Peek(br.Buffered())
	read := append([]byte(line), rest...)
	c.keepProbed(&replayConn{Conn: conn, r: io.MultiReader(bytes.NewReader(read), conn)})
	return nil
}

// probeReuse is how long a probe's connection waits for a login to take it.
// sshd's LoginGraceTime (2 minutes by default) is far longer.
const probeReuse = time.Second

// probedConn is a probe's connection, kept for the next login.
type probedConn struct {
	conn net.Conn
	at   time.Time
}

// keepProbed keeps conn for the next connect, closing the one kept before.
// Through a jump host it is closed instead: a reconnect redials the jump
// host first, which would end it. An unused probe connection is dropped, so
// its close error is of no interest.
func (c *Client) keepProbed(conn net.Conn) {
	c.mu.Lock()
	old := c.probed
	c.probed = nil
	if !c.closed && c.jump == nil {
		c.probed = &probedConn{conn: conn, at: time.Now()}
		conn = nil
	}
	c.mu.Unlock()
	if old != nil {
		_ = old.conn.Close()
	}
	if conn != nil {
		_ = conn.Close()
	}
}

// takeProbed returns the kept probe connection if it is recent enough, or
// nil.
func (c *Client) takeProbed() net.Conn {
	c.mu.Lock()
	p := c.probed
	c.probed = nil
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	if time.Since(p.at) > probeReuse {
		_ = p.conn.Close() // unused, so dropped

		return nil
	}
	return p.conn
}

// replayConn is a connection whose first bytes were already read: Read
// returns them again first, so the SSH handshake sees the banner.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }
