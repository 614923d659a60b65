package remote

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// Handshakes bounds the SSH handshakes in flight to each sshd, across the
// dials that share it (Config.Handshakes). OpenSSH's default MaxStartups
// 10:30:100 starts dropping unauthenticated connections beyond 10 at
// once, which a scan of many hosts behind one bastion far exceeds: every
// host's dial handshakes with the bastion first. Create one with
// NewHandshakes; it is safe for concurrent dials.
type Handshakes struct {
	mu    sync.Mutex
	slots map[string]*startupSlots // by host:port
}

type startupSlots struct {
	sem   chan struct{}
	users int // dials holding or waiting for a slot; the entry goes at 0
}

// NewHandshakes returns a Handshakes with no handshake in flight.
func NewHandshakes() *Handshakes {
	return &Handshakes{slots: make(map[string]*startupSlots)}
}

// acquire waits, at most until ctx ends, for one of limit handshake slots
// of addr, and returns its release. The first dial to addr sets its limit.
func (h *Handshakes) acquire(ctx context.Context, addr string, limit int) (func(), error) {
	if h == nil || limit <= 0 {
		return func() {}, nil
	}
	h.mu.Lock()
	s := h.slots[addr]
	if s == nil {
		s = &startupSlots{sem: make(chan struct{}, limit)}
		h.slots[addr] = s
	}
	s.users++
	h.mu.Unlock()
	done := func() {
		h.mu.Lock()
		if s.users--; s.users == 0 {
			delete(h.slots, addr)
		}
		h.mu.Unlock()
	}
	select {
	case s.sem <- struct{}{}:
		return func() { <-s.sem; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}

// connect opens one SSH connection, retrying up to Config.ConnectRetries
// times, after a jittered backoff, a handshake the server dropped (sshd
// past MaxStartups closes the connection before its banner). Every attempt
// runs within ctx: the retries count in the caller's timeout.
func (c *Client) connect(ctx context.Context) (*ssh.Client, error) {
	for attempt := 0; ; attempt++ {
		conn, err := c.connectOnce(ctx)
		if err == nil || attempt >= c.cfg.ConnectRetries || !dropped(err) {
			return conn, err
		}
		t := time.NewTimer(backoff(attempt))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, err
		}
	}
}

// dropped reports whether err is a connection the server closed or reset
// during the handshake, rather than a refusal: a host key or
// authentication failure, a refused port or a timeout is final.
func dropped(err error) bool {
	var hkErr *HostKeyError
	if errors.As(err, &hkErr) {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// retryBase is the first retry's mean wait; each further one doubles it.
const retryBase = 250 * time.Millisecond

// backoff is retryBase doubled per attempt, scaled by a random factor in
// [0.5, 1.5) so that the hosts a bastion dropped together do not come
// back together.
func backoff(attempt int) time.Duration {
	d := retryBase << min(attempt, 6)
	return d/2 + rand.N(d) //nolint:gosec // G404: jitter, not a secret
}
