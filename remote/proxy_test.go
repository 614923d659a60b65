package remote

import (
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/skeema/knownhosts"
)

// freezableProxy forwards TCP connections to target until frozen, after
// which it silently stops moving bytes, like a host that lost power. cut
// ends the connections open, like a host that rebooted, and refusing makes
// it hang up on new ones, like a host still down. It counts the connections
// it accepted and those still open.
type freezableProxy struct {
	l        net.Listener
	frozen   chan struct{}
	once     sync.Once
	accepted atomic.Int32
	open     atomic.Int32
	refusing atomic.Bool

	mu    sync.Mutex
	conns map[int32]func() // ends each open connection
}

func newFreezableProxy(t *testing.T, target string) *freezableProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezableProxy{l: l, frozen: make(chan struct{}), conns: map[int32]func(){}}
	var wg sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() { close(done); l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			id := p.accepted.Add(1)
			if p.refusing.Load() {
				in.Close()
				continue
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			p.open.Add(1)
			var ended sync.Once
			end := func() {
				in.Close()
				out.Close()
				ended.Do(func() {
					p.open.Add(-1)
					p.mu.Lock()
					delete(p.conns, id)
					p.mu.Unlock()
				})
			}
			p.mu.Lock()
			p.conns[id] = end
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					select {
					case <-p.frozen:
						<-done // hold everything until the test ends
						end()
						return
					default:
					}
					if err != nil {
						end()
						return
					}
					if _, err := dst.Write(buf[:n]); err != nil {
						return
					}
				}
			}
			wg.Add(2)
			go pipe(out, in)
			go pipe(in, out)
		}
	}()
	return p
}

func (p *freezableProxy) port() int { return p.l.Addr().(*net.TCPAddr).Port }

func (p *freezableProxy) freeze() { p.once.Do(func() { close(p.frozen) }) }

// cut ends every connection open now.
func (p *freezableProxy) cut() {
	p.mu.Lock()
	ends := slices.Collect(maps.Values(p.conns))
	p.mu.Unlock()
	for _, end := range ends {
		end()
	}
}

// proxiedConfig is a Config for server s reached through proxy, whose
// address known_hosts lists with s's key.
func (e *sshEnv) proxiedConfig(t *testing.T, s *sshdProc, proxy *freezableProxy) Config {
	t.Helper()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	proxyAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(proxy.port()))
	if err := os.WriteFile(kh, []byte(knownhosts.Line([]string{proxyAddr}, s.hostKey.PublicKey())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := e.config(s, kh)
	cfg.Port = proxy.port()
	return cfg
}
