package remote

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"
)

// Probe checks, without logging in, that the host's sshd accepts
// connections: a TCP connect (through the jump host, if any) and the server's
// SSH identification line. A reboot wait polls it at sub-second intervals; a
// probe costs the host a TCP accept and a banner, not a login session that a
// shutting-down systemd would have to stop.
func (c *Client) Probe(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := c.dialTransport(ctx, c.addr())
	if err != nil {
		return fmt.Errorf("probe %s: %w", c.cfg.Name, err)
	}
	defer conn.Close()
	// A connection through a jump host has no deadlines: closing it is what
	// ends a read that hangs.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	line, err := bufio.NewReaderSize(conn, 256).ReadString('\n')
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("probe %s: no SSH banner within %s", c.cfg.Name, timeout)
		}
		return fmt.Errorf("probe %s: %w", c.cfg.Name, err)
	}
	if !strings.HasPrefix(line, "SSH-") {
		return fmt.Errorf("probe %s: not an SSH server: %q", c.cfg.Name, strings.TrimSpace(line))
	}
	return nil
}
