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
		signers:  &signerCache{files: cfg.IdentityFiles, certFiles: cfg.CertificateFiles, passphrase: cfg.Passphrase},
		sudo:     &sudoPassword{get: cfg.BecomePassword},
	}
	if cfg.Jump != nil && len(cfg.ProxyCommand) == 0 {
		if cfg.JumpPool != nil {
			c.jump, c.releaseJump, err = cfg.JumpPool.get(ctx, *cfg.Jump, depth+1)
		} else {
			c.jump, err = dial(ctx, *cfg.Jump, depth+1)
		}
		if err != nil {
			var hkErr *HostKeyError
			if errors.As(err, &hkErr) {
				return nil, err // already names the jump host, and is clearer unwrapped
			}
			return nil, fmt.Errorf("dial %s (%s) via jump host: %w", cfg.Name, c.addr(), err)
		}
	}
	conn, err := c.connect(ctx)
	if err != nil {
		_ = c.dropJump() // the dial error is the one worth reporting
		return nil, err
	}
	c.conn = conn
	c.stopKA = startKeepAlive(conn, cfg.KeepAlive)
	return c, nil
}

// Reconnect drops the connection and dials again with the same Config, host
// key verified again (and the jump host, if any, reconnected first, unless
// it is shared through a JumpPool: then only if it is dead). Identity
// files are not decrypted again and a cached sudo password is kept. If the
// new dial fails the old connection is still closed, so a half-dead
// connection is never reused silently.
func (c *Client) Reconnect(ctx context.Context) error {
	c.mu.Lock()
	cur, jump := c.conn, c.jump
	c.mu.Unlock()
	if !c.detach(cur) {
		return fmt.Errorf("reconnect %s: client closed", c.cfg.Name)
	}
	// A pooled jump host carries other hosts too: it is redialed only if
	// dead (see dialTransport).
	if jump != nil && c.releaseJump == nil {
		if err := jump.Reconnect(ctx); err != nil {
			return fmt.Errorf("reconnect %s: %w", c.cfg.Name, err)
		}
	}
	if err := c.attach(ctx); err != nil {
		return fmt.Errorf("reconnect: %w", err)
	}
	return nil
}

// dropJump lets go of the jump host: closes it, or returns it to its pool.
func (c *Client) dropJump() error {
	c.mu.Lock()
	jump, release := c.jump, c.releaseJump
	c.jump, c.releaseJump = nil, nil
	c.mu.Unlock()
	switch {
	case release != nil:
		release()
	case jump != nil:
		return jump.Close()
	}
	return nil
}

// redial replaces dead, a connection found dead, with a new one, host key
// verified again; its own jump host is redialed only if it is dead too (see
// dialTransport). A connection another caller already replaced is kept: it
// may carry that caller's sessions.
func (c *Client) redial(ctx context.Context, dead *ssh.Client) error {
	c.mu.Lock()
	replaced := c.conn != dead
	c.mu.Unlock()
	if replaced {
		return nil
	}
	if !c.detach(dead) {
		return fmt.Errorf("%s: client closed", c.cfg.Name)
	}
	return c.attach(ctx)
}

// detach closes the connection if it is still old; it returns false once
// the client is closed. Closing first (rather than dialing first and
// swapping) makes sessions still using the old connection fail fast instead
// of hanging on what is often a dead TCP connection (a reconnect follows a
// reboot or an sshd restart).
func (c *Client) detach(old *ssh.Client) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	if c.conn != old {
		c.mu.Unlock()
		return true
	}
	conn, stopKA, sc := c.conn, c.stopKA, c.sftp
	c.conn, c.stopKA, c.sftp = nil, nil, nil
	c.mu.Unlock()
	_ = closeConn(conn, stopKA, sc)
	return true
}

// attach dials and installs a new connection, unless another caller
// installed one while this one dialed.
func (c *Client) attach(ctx context.Context) error {
	newConn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.conn != nil {
		_ = newConn.Close()
		if c.closed {
			return fmt.Errorf("%s: client closed", c.cfg.Name)
		}
		return nil
	}
	c.conn = newConn
	c.stopKA = startKeepAlive(newConn, c.cfg.KeepAlive)
	return nil
}

// connectOnce opens and authenticates one SSH connection to c's host,
// directly or through c.jump.
func (c *Client) connectOnce(ctx context.Context) (*ssh.Client, error) {
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

	// Waiting for a handshake slot is not part of this hop's timeout.
	release, err := c.cfg.Handshakes.acquire(ctx, addr, c.cfg.MaxStartups)
	if err != nil {
		return nil, fail(fmt.Errorf("waiting for a handshake slot: %w", err))
	}
	defer release()

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
		netConn, err = c.dialTransport(hctx, ctx, addr)
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

// jumpRedials bounds the redials of a dead jump connection within one
// dial: one is what a bastion that rebooted or dropped needs, and a bastion
// that drops every new connection must fail the dial, not loop in it.
const jumpRedials = 2

// dialTransport opens the byte stream the SSH connection runs over. Through
// a jump host whose connection has died (the bastion rebooted, or dropped
// and keepalives gave up), the jump host is redialed, host key verified
// again, and the dial tried again: a host behind a rebooted bastion is
// otherwise unreachable for the rest of the run. The redial runs in
// redialCtx, which may outlast ctx: a probe's short timeout is no bound for
// a bastion's handshake, which has its own connect timeout.
func (c *Client) dialTransport(ctx, redialCtx context.Context, addr string) (net.Conn, error) {
	if len(c.cfg.ProxyCommand) > 0 {
		return dialCommand(c.cfg.ProxyCommand, c.cfg.ProxyStderr, addr)
	}
	c.mu.Lock()
	jump := c.jump
	c.mu.Unlock()
	if jump == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return quickAck(conn), nil
	}
	for redials := 0; ; redials++ {
		jc, err := jump.connection()
		if err == nil {
			var conn net.Conn
			if conn, err = jc.DialContext(ctx, "tcp", addr); err == nil {
				return conn, nil
			}
		}
		if redials == jumpRedials || ctx.Err() != nil || !jumpDead(jump, err) {
			return nil, fmt.Errorf("via jump host %s: %w", jump.Name(), err)
		}
		if rerr := jump.redial(redialCtx, jc); rerr != nil {
			return nil, fmt.Errorf("via jump host %s: %v; redial: %w", jump.Name(), err, rerr)
		}
	}
}

// jumpDead reports whether err, from reaching a host through jump, means
// the jump connection is gone, rather than the host refusing (an
// *ssh.OpenChannelError: the bastion is alive and answered) or jump closed
// by its owner.
func jumpDead(jump *Client, err error) bool {
	var refused *ssh.OpenChannelError
	if errors.As(err, &refused) {
		return false
	}
	jump.mu.Lock()
	defer jump.mu.Unlock()
	return !jump.closed
}

func hostPort(cfg Config) string {
	return net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
}
