package remote

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError reports a host whose key is not in the known_hosts files
// (Unknown) or differs from the key recorded there (changed). A changed key
// is never accepted, not even with TrustOnFirstUse.
type HostKeyError struct {
	Host        string   // Config.Name
	Addr        string   // host:port as dialed and looked up
	Unknown     bool     // true: no key recorded; false: a different key is recorded
	Fingerprint string   // SHA256:... of the key the host presented
	KnownHosts  []string // unknown: the files searched; changed: the files holding the conflicting entries

	keyType   string
	offending []string // "file:line" of the conflicting entries
}

func (e *HostKeyError) Error() string {
	pattern := knownhosts.Normalize(e.Addr)
	if e.Unknown {
		host, port, _ := net.SplitHostPort(e.Addr)
		return fmt.Sprintf("host %s (%s) is unknown: its %s key %s is not in %s; "+
			"verify the fingerprint out of band, then add the key "+
			"(e.g. ssh-keyscan -p %s -t %s %s >> %s) or rerun with --trust-on-first-use",
			e.Host, e.Addr, e.keyType, e.Fingerprint, strings.Join(e.KnownHosts, ", "),
			port, e.keyType, host, firstOr(e.KnownHosts, "~/.ssh/known_hosts"))
	}
	where := strings.Join(e.offending, ", ")
	if where == "" {
		where = strings.Join(e.KnownHosts, ", ")
	}
	return fmt.Sprintf("WARNING: HOST KEY OF %s (%s) HAS CHANGED! It now presents %s key %s, "+
		"which does not match the key recorded in %s. Someone may be intercepting the connection "+
		"(man-in-the-middle), or the host was reinstalled. Refusing to connect; "+
		"--trust-on-first-use never overrides a changed key. If the change is expected, "+
		"remove the old entry (ssh-keygen -R '%s' -f %s) and verify the new key out of band",
		e.Host, e.Addr, e.keyType, e.Fingerprint, where, pattern, firstOr(e.KnownHosts, "~/.ssh/known_hosts"))
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

// hostKeyChecker verifies the key of one connection attempt.
type hostKeyChecker struct {
	name       string
	files      []string
	tofu       bool
	db         ssh.HostKeyCallback
	algorithms []string

	// The callback runs again on every re-key, possibly from another
	// goroutine; hence the lock and the memory of a key accepted by TOFU
	// (the db above predates it and would call the host unknown again).
	mu       sync.Mutex
	accepted []byte
	err      *HostKeyError
}

// newHostKeyChecker reads the known_hosts files afresh, so keys recorded by
// another dial (TOFU) are seen. Files that do not exist count as empty.
func newHostKeyChecker(cfg Config, addr string) (*hostKeyChecker, error) {
	var existing []string
	for _, f := range cfg.KnownHosts {
		if _, err := os.Stat(f); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("known hosts: %w", err)
		}
		existing = append(existing, f)
	}
	db, err := knownhosts.NewDB(existing...)
	if err != nil {
		return nil, fmt.Errorf("known hosts: %w", err)
	}
	return &hostKeyChecker{
		name:  cfg.Name,
		files: cfg.KnownHosts,
		tofu:  cfg.TrustOnFirstUse,
		db:    db.HostKeyCallback(),
		// Ask the server for a key type we have on record; otherwise it may
		// present another type and look "changed".
		algorithms: db.HostKeyAlgorithms(addr),
	}, nil
}

// check is the ssh.HostKeyCallback.
func (h *hostKeyChecker) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.accepted != nil && bytes.Equal(h.accepted, key.Marshal()) {
		return nil
	}
	err := h.db(hostname, remote, key)
	if err == nil {
		return nil
	}
	var keyErr *xknownhosts.KeyError
	if !errors.As(err, &keyErr) {
		return fmt.Errorf("host key of %s: %w", h.name, err) // e.g. a @revoked key
	}
	hkErr := &HostKeyError{
		Host:        h.name,
		Addr:        hostname,
		Unknown:     len(keyErr.Want) == 0,
		Fingerprint: ssh.FingerprintSHA256(key),
		keyType:     key.Type(),
	}
	if hkErr.Unknown {
		hkErr.KnownHosts = append([]string(nil), h.files...)
		if h.tofu {
			if err := appendKnownHost(h.files[0], hostname, remote, key); err != nil {
				return fmt.Errorf("trust on first use of %s: %w", h.name, err)
			}
			h.accepted = key.Marshal()
			return nil
		}
	} else {
		seen := map[string]bool{}
		for _, w := range keyErr.Want {
			hkErr.offending = append(hkErr.offending, fmt.Sprintf("%s:%d", w.Filename, w.Line))
			if !seen[w.Filename] {
				seen[w.Filename] = true
				hkErr.KnownHosts = append(hkErr.KnownHosts, w.Filename)
			}
		}
	}
	h.err = hkErr
	return hkErr
}

// failure returns the host key rejection of this attempt, if that is why the
// handshake failed.
func (h *hostKeyChecker) failure() *HostKeyError {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// appendKnownHost records key for hostname (and the remote IP, if different)
// at the end of file, creating it 0600 and its directory 0700 if missing.
func appendKnownHost(file, hostname string, remote net.Addr, key ssh.PublicKey) error {
	var line bytes.Buffer
	if err := knownhosts.WriteKnownHost(&line, hostname, remote, key); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	data := line.Bytes()
	// A file without a final newline would glue our entry onto its last one.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			data = append([]byte{'\n'}, data...)
		}
	}
	// One write, so concurrent dials appending to the same file (O_APPEND)
	// cannot interleave within a line.
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("record host key in %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("record host key in %s: %w", file, err)
	}
	return nil
}
