package remote

import (
	"context"
	"fmt"
	"sync"
)

// JumpPool lets the hosts behind one jump host share a few SSH connections
// to it, each host a direct-tcpip channel on one of them, instead of a
// connection each: a scan of hundreds of hosts behind a bastion then
// handshakes with it a few times, not hundreds (its MaxStartups), and
// holds a few sshd processes there, not hundreds. Share one through
// Config.JumpPool; it is safe for concurrent dials. A pooled connection is
// closed when the last host using it closes.
type JumpPool struct {
	size int

	mu    sync.Mutex
	jumps map[string]*jumpSet // by jumpKey
}

type jumpSet struct {
	conns []*pooledJump
	next  int // round robin over conns once there are size of them
}

type pooledJump struct {
	ready chan struct{} // closed once the dial is done
	c     *Client
	err   error
	users int // hosts holding it; guarded by JumpPool.mu
}

// NewJumpPool returns a pool of at most size connections per jump host
// (at least 1).
func NewJumpPool(size int) *JumpPool {
	return &JumpPool{size: max(size, 1), jumps: make(map[string]*jumpSet)}
}

// jumpKey tells jump configs apart: the hosts behind one bastion all
// carry the same one.
func jumpKey(cfg Config) string {
	key := fmt.Sprintf("%q", []any{cfg.Name, cfg.Address, cfg.Port, cfg.User, cfg.IdentityFiles,
		cfg.CertificateFiles, cfg.Agent, cfg.AgentSocket, cfg.KnownHosts, cfg.ProxyCommand})
	if cfg.Jump != nil {
		key += "<" + jumpKey(*cfg.Jump)
	}
	return key
}

// get returns a connected jump host for cfg and its release, dialing a new
// connection while the pool has fewer than size for it.
func (p *JumpPool) get(ctx context.Context, cfg Config, depth int) (*Client, func(), error) {
	key := jumpKey(cfg)
	p.mu.Lock()
	set := p.jumps[key]
	if set == nil {
		set = &jumpSet{}
		p.jumps[key] = set
	}
	var pj *pooledJump
	fresh := len(set.conns) < p.size
	if fresh {
		pj = &pooledJump{ready: make(chan struct{})}
		set.conns = append(set.conns, pj)
	} else {
		pj = set.conns[set.next%len(set.conns)]
		set.next++
	}
	pj.users++
	p.mu.Unlock()

	if fresh {
		pj.c, pj.err = dial(ctx, cfg, depth)
		close(pj.ready)
	} else {
		select {
		case <-pj.ready:
		case <-ctx.Done():
			p.release(key, pj)
			return nil, nil, ctx.Err()
		}
	}
	if pj.err != nil {
		p.release(key, pj)
		return nil, nil, pj.err
	}
	var once sync.Once
	return pj.c, func() { once.Do(func() { p.release(key, pj) }) }, nil
}

// release drops one user of pj; the last one closes it, and a failed dial
// leaves the pool at once, so that the next host dials again.
func (p *JumpPool) release(key string, pj *pooledJump) {
	p.mu.Lock()
	pj.users--
	last := pj.users == 0
	set := p.jumps[key]
	if set != nil && (last || failed(pj)) {
		for i, x := range set.conns {
			if x == pj {
				set.conns = append(set.conns[:i], set.conns[i+1:]...)
				break
			}
		}
		if len(set.conns) == 0 {
			delete(p.jumps, key)
		}
	}
	p.mu.Unlock()
	if last && pj.c != nil {
		_ = pj.c.Close() // its hosts have closed: nothing rides on it
	}
}

// failed reports a finished dial that failed; pj.err is set before ready
// is closed.
func failed(pj *pooledJump) bool {
	select {
	case <-pj.ready:
		return pj.err != nil
	default:
		return false
	}
}
