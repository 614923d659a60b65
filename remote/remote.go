// Package remote runs commands on, and copies files to, Linux hosts over plain
// SSH. Nothing is installed on the hosts: every operation is a command run
// through the host's POSIX login shell or an SFTP request, over one SSH
// connection per host.
//
// Every argument is shell-quoted before it reaches the host, so paths and
// arguments are always passed literally and never interpreted by the remote
// shell. The login shell of the remote user must therefore be a POSIX shell
// (sh, bash, dash, ash, zsh); csh and fish quote differently. Hosts also
// need the SFTP subsystem, coreutils-style stat, sha256sum, mktemp, sync, mv,
// chmod and chown, and sudo for Config.Become.
//
// Failures are *ExitError (a command exited non-zero) or *HostKeyError (an
// unknown or changed host key); other errors name the host.
package remote

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Defaults applied to a zero Config field.
const (
	defaultPort           = 22
	defaultUser           = "root"
	defaultConnectTimeout = 10 * time.Second
	defaultKeepAlive      = 15 * time.Second
	defaultKnownHosts     = "~/.ssh/known_hosts"
)

// maxSessions bounds concurrent command sessions on one connection. OpenSSH
// refuses more than MaxSessions (default 10) channels per connection; one is
// kept free for the SFTP subsystem and one for slack.
const maxSessions = 8

// Config describes how to reach one host. A Jump config is a complete Config
// of its own: nothing is inherited from the host it leads to.
type Config struct {
	Name            string                               // host name for messages; default Address
	Address         string                               // IP or DNS name
	Port            int                                  // default 22
	User            string                               // default "root"
	IdentityFiles   []string                             // private keys; ~ expanded
	Agent           bool                                 // use $SSH_AUTH_SOCK
	KnownHosts      []string                             // known_hosts files; ~ expanded; default ~/.ssh/known_hosts
	TrustOnFirstUse bool                                 // accept an UNKNOWN host (never a changed key) and append its key to KnownHosts[0]
	HostKeyCache    *HostKeyCache                        // parsed KnownHosts shared by dials; nil = parse them on every dial
	ConnectTimeout  time.Duration                        // default 10s; TCP connect + SSH handshake, per hop
	KeepAlive       time.Duration                        // default 15s; keepalive@openssh.com requests; a dead conn is closed
	Become          bool                                 // wrap commands in sudo (for non-root users)
	BecomePassword  func() ([]byte, error)               // nil = NOPASSWD sudo; called at most once per Client, cached in memory
	Passphrase      func(keyFile string) ([]byte, error) // for encrypted identity files; nil = skip them with an error
	Jump            *Config                              // ProxyJump bastion (may itself have a Jump)
	// ProxyCommand, when set, is the argv of a local command whose stdin
	// and stdout carry the connection instead of TCP (ssh_config's
	// ProxyCommand, tokens already expanded). It is run without a shell and
	// replaces Jump; the host key is still checked for Address:Port.
	ProxyCommand []string
	ProxyStderr  io.Writer // the ProxyCommand's stderr; nil discards it
	// CertificateFiles are user certificates, each offered with the
	// identity file or agent key it certifies; IDENTITY-cert.pub beside
	// an identity file is offered without being listed. ~ expanded.
	CertificateFiles []string
	IdentitiesOnly   bool   // offer agent keys only if an identity file holds them
	AgentSocket      string // the agent's socket; "" for $SSH_AUTH_SOCK
	HashKnownHosts   bool   // trust on first use records the host name hashed, as HashKnownHosts yes
	// Handshakes, when set, bounds the handshakes in flight to this host
	// to MaxStartups (0: unbounded) across the dials sharing it.
	Handshakes  *Handshakes
	MaxStartups int
	// JumpPool, when set, shares the connection to Jump with the other
	// hosts behind it (see JumpPool).
	JumpPool *JumpPool
	// ConnectRetries is how many times a handshake the server dropped is
	// tried again, after a jittered backoff; 0: never.
	ConnectRetries int
	// TempTag goes into the names of Upload's temporary files
	// (.NAME.fleetfix-tmp-TAG-HEX), so that what an upload cut off leaves
	// can be found by whoever knows the tag (fleet uses the run id). Letters,
	// digits and _ only, at most 32; "" leaves it out.
	TempTag string
}

// withDefaults returns a copy of c with zero fields defaulted and paths
// expanded, or an error if c cannot describe a host.
func (c Config) withDefaults() (Config, error) {
	if c.Address == "" {
		return c, errors.New("config: empty address")
	}
	if c.Name == "" {
		c.Name = c.Address
	}
	if c.Port == 0 {
		c.Port = defaultPort
	}
	if c.Port < 1 || c.Port > 65535 {
		return c, fmt.Errorf("config %s: port %d out of range", c.Name, c.Port)
	}
	if c.User == "" {
		c.User = defaultUser
	}
	if !validTempTag(c.TempTag) {
		return c, fmt.Errorf("config %s: temp tag %q: want at most %d letters, digits or _", c.Name, c.TempTag, maxTempTag)
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = defaultConnectTimeout
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = defaultKeepAlive
	}
	if len(c.KnownHosts) == 0 {
		c.KnownHosts = []string{defaultKnownHosts}
	}
	var err error
	if c.KnownHosts, err = expandAll(c.KnownHosts); err != nil {
		return c, fmt.Errorf("config %s: known hosts: %w", c.Name, err)
	}
	if c.IdentityFiles, err = expandAll(c.IdentityFiles); err != nil {
		return c, fmt.Errorf("config %s: identity files: %w", c.Name, err)
	}
	if c.CertificateFiles, err = expandAll(c.CertificateFiles); err != nil {
		return c, fmt.Errorf("config %s: certificate files: %w", c.Name, err)
	}
	if c.AgentSocket, err = expandHome(c.AgentSocket); err != nil {
		return c, fmt.Errorf("config %s: agent socket: %w", c.Name, err)
	}
	return c, nil
}

func expandAll(paths []string) ([]string, error) {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		e, err := expandHome(p)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// expandHome expands a leading "~" or "~/" to the local user's home
// directory. "~user" is left alone: it is rare in tool configs and resolving
// it needs the user database.
func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expand %s: %w", p, err)
	}
	return filepath.Join(home, p[1:]), nil
}

// Client is one SSH connection to a host, shared by every operation on it.
// Its methods are safe for concurrent use.
type Client struct {
	cfg      Config
	sudoRoot bool          // commands meant to run as root go through sudo
	sessions chan struct{} // semaphore, see maxSessions
	signers  *signerCache
	sudo     *sudoPassword

	mu     sync.Mutex
	closed bool
	jump   *Client
	// releaseJump returns a jump host from Config.JumpPool instead of
	// closing it; nil for a jump host of the client's own.
	releaseJump func()
	conn        *ssh.Client
	stopKA      func() // stops the keepalive goroutine of conn
	sftp        *sftp.Client
	probed      *probedConn // see Probe
}

// Name returns the host name used in messages.
func (c *Client) Name() string {
	return c.cfg.Name
}

// addr is host:port as dialed and as looked up in known_hosts.
func (c *Client) addr() string {
	return hostPort(c.cfg)
}

// Close closes the connection, the SFTP client, the keepalive goroutine and
// any jump connection, and forgets the cached sudo password. Closing twice is
// harmless.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	conn, stopKA, sc, probed := c.conn, c.stopKA, c.sftp, c.probed
	c.conn, c.stopKA, c.sftp, c.probed = nil, nil, nil, nil
	c.mu.Unlock()

	if probed != nil {
		_ = probed.conn.Close() // never used: nothing of the client's rides on it
	}

	c.sudo.forget()
	err := closeConn(conn, stopKA, sc)
	if jerr := c.dropJump(); jerr != nil && err == nil {
		err = jerr
	}
	if err != nil {
		return fmt.Errorf("close %s: %w", c.cfg.Name, err)
	}
	return nil
}

// closeConn tears down one connection. The connection is closed before the
// keepalive goroutine is stopped, because stopping waits for an in-flight
// keepalive request, which only returns once the connection is gone. A
// connection that is already gone (closed by keepalives, or its jump host
// gone) is not an error.
//
// The SFTP client is closed after the connection because its Close waits for
// its reader, which on a dead but unclosed connection would wait forever.
func closeConn(conn *ssh.Client, stopKA func(), sc *sftp.Client) error {
	var err error
	if conn != nil {
		if cerr := conn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && !errors.Is(cerr, io.EOF) {
			err = cerr
		}
	}
	if sc != nil {
		_ = sc.Close() // its session went with the connection
	}
	if stopKA != nil {
		stopKA()
	}
	return err
}

// Lost returns a channel that is closed when the connection in use now ends:
// the host closed it (a reboot killing sshd's sessions), keepalives gave up
// on it, or Reconnect or Close replaced it. Nothing is sent to the host.
// Without a connection the channel is closed already.
func (c *Client) Lost() <-chan struct{} {
	ch := make(chan struct{})
	conn, err := c.connection()
	if err != nil {
		close(ch)
		return ch
	}
	go func() {
		_ = conn.Wait()
		close(ch)
	}()
	return ch
}

// connection returns the live SSH connection.
func (c *Client) connection() (*ssh.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("%s: client closed", c.cfg.Name)
	}
	if c.conn == nil {
		return nil, fmt.Errorf("%s: not connected", c.cfg.Name)
	}
	return c.conn, nil
}
