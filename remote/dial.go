package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"golang.org/x/crypto/ssh"
)

// maxJumpDepth stops a Config whose Jump chain loops back on itself from
// recursing forever.
const maxJumpDepth = 8

// Dial connects and authenticates to the host described by cfg, checking its
// host key against cfg.KnownHosts, and keeps the connection alive until Close.
// Errors name the host and address; an unknown or changed host key is a
// *HostKeyError.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	return dial(ctx, cfg, 0)
}

func dial(ctx context.Context, cfg Config, depth int) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if depth > maxJumpDepth {
		return nil, fmt.Errorf("dial %s: more than %d jump hosts (loop in the Jump chain?)", cfg.Name, maxJumpDepth)
	}
	c := &Client{
		cfg:      cfg,
		sudoRoot: cfg.Become && cfg.User != "root",
		sessions: make(chan struct{}, maxSessions),
		signers:  &signerCache{files: cfg.IdentityFiles, passphrase: cfg.Passphrase},
		sudo:     &sudoPassword{get: cfg.BecomePassword},
	}
	if cfg.Jump != nil {
		if c.jump, err = dial(ctx, *cfg.Jump, depth+1); err != nil {
			var hkErr *HostKeyError
			if errors.As(err, &hkErr) {
				return nil, err // already names the jump host, and is clearer unwrapped
			}
			return nil, fmt.Errorf("dial %s (%s) via jump host: %w", cfg.Name, c.addr(), err)
		}
	}
	conn, err := c.connect(ctx)
	if err != nil {
		if c.jump != nil {
			_ = c.jump.Close() // the dial error is the one worth reporting
		}
		return nil, err
	}
	c.conn = conn
	c.stopKA = startKeepAlive(conn, cfg.KeepAlive)
	return c, nil
}

// Reconnect drops the connection and dials again with the same Config, host
// key verified again (and the jump host, if any, reconnected first). Identity
// files are not decrypted again and a cached sudo password is kept. If the
// new dial fails the old connection is still closed, so a half-dead
// connection is never reused silently.
func (c *Client) Reconnect(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("reconnect %s: client closed", c.cfg.Name)
	}
	conn, stopKA, sc := c.conn, c.stopKA, c.sftp
	c.conn, c.stopKA, c.sftp = nil, nil, nil
	jump := c.jump
	c.mu.Unlock()

	// Closing first (rather than dialing first and swapping) makes sessions
	// still using the old connection fail fast instead of hanging on what is
	// often a dead TCP connection (Reconnect follows a reboot or an sshd
	// restart).
	_ = closeConn(conn, stopKA, sc)

	if jump != nil {
		if err := jump.Reconnect(ctx); err != nil {
			return fmt.Errorf("reconnect %s: %w", c.cfg.Name, err)
		}
	}
	newConn, err := c.connect(ctx)
	if err != nil {
		return fmt.Errorf("reconnect: %w", err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.conn != nil {
		// Closed, or another Reconnect won the race, while we dialed.
		_ = newConn.Close()
		if c.closed {
			return fmt.Errorf("reconnect %s: client closed", c.cfg.Name)
		}
		return nil
	}
	c.conn = newConn
	c.stopKA = startKeepAlive(newConn, c.cfg.KeepAlive)
	return nil
}

// connect opens and authenticates one SSH connection to c's host, directly
// or through c.jump.
func (c *Client) connect(ctx context.Context) (*ssh.Client, error) {
	addr := c.addr()
	fail := func(err error) error {
		return fmt.Errorf("dial %s (%s): %w", c.cfg.Name, addr, err)
	}

	auth, err := c.authMethods()
	if err != nil {
		return nil, fail(err)
	}
	defer auth.close()

	hk, err := newHostKeyChecker(c.cfg, addr)
	if err != nil {
		return nil, fail(err)
	}
	sshCfg := &ssh.ClientConfig{
		User:              c.cfg.User,
		Auth:              auth.methods,
		HostKeyCallback:   hk.check,
		HostKeyAlgorithms: hk.algorithms,
	}

	// One deadline covers TCP connect and the SSH handshake of this hop.
	hctx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	defer cancel()
	timeoutErr := func() error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("timed out after %s", c.cfg.ConnectTimeout)
	}

	netConn := c.takeProbed()
	if netConn == nil {
		netConn, err = c.dialTransport(hctx, addr)
	}
	if err != nil {
		if hctx.Err() != nil {
			err = fmt.Errorf("%w: %w", timeoutErr(), err)
		}
		return nil, fail(err)
	}
	// ssh.NewClientConn takes no context, and a connection through a jump
	// host has no deadlines, so abort the handshake by closing the conn.
	stop := context.AfterFunc(hctx, func() { _ = netConn.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(netConn, addr, sshCfg)
	if !stop() {
		if err == nil {
			_ = sc.Close()
		}
		return nil, fail(fmt.Errorf("ssh handshake: %w", timeoutErr()))
	}
	if err != nil {
		_ = netConn.Close()
		if hkErr := hk.failure(); hkErr != nil {
			return nil, hkErr
		}
		return nil, fail(auth.explain(err))
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

// dialTransport opens the byte stream the SSH connection runs over.
func (c *Client) dialTransport(ctx context.Context, addr string) (net.Conn, error) {
	if c.jump == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return quickAck(conn), nil
	}
	jc, err := c.jump.connection()
	if err != nil {
		return nil, fmt.Errorf("via jump host %s: %w", c.jump.Name(), err)
	}
	conn, err := jc.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("via jump host %s: %w", c.jump.Name(), err)
	}
	return conn, nil
}

func hostPort(cfg Config) string {
	return net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
}
