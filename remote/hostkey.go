package remote

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
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
	hash       bool // record a TOFU key hashed
	db         ssh.HostKeyCallback
	index      *knownIndex // nil: ask db only
	algorithms []string

	// The callback runs again on every re-key, possibly from another
	// goroutine; hence the lock and the memory of a key accepted by TOFU
	// (the db above predates it and would call the host unknown again).
	mu       sync.Mutex
	accepted []byte
	err      *HostKeyError
}

// newHostKeyChecker reads the known_hosts files afresh, or takes them from
// cfg.HostKeyCache if they have not changed since, so keys recorded by
// another dial (TOFU) are seen.
func newHostKeyChecker(cfg Config, addr string) (*hostKeyChecker, error) {
	load := loadKnownHosts
	if cfg.HostKeyCache != nil {
		load = cfg.HostKeyCache.load
	}
	p, err := load(cfg.KnownHosts)
	if err != nil {
		return nil, err
	}
	// Ask the server for a key type we have on record; otherwise it may
	// present another type and look "changed".
	var known []string
	if p.index != nil {
		known = p.index.algorithms(addr)
	} else {
		known = p.db.HostKeyAlgorithms(addr)
	}
	return &hostKeyChecker{
		name:       cfg.Name,
		files:      cfg.KnownHosts,
		tofu:       cfg.TrustOnFirstUse,
		hash:       cfg.HashKnownHosts,
		db:         p.db.HostKeyCallback(),
		index:      p.index,
		algorithms: preferKnown(known),
	}, nil
}

// preferKnown puts the key types on record first and every other one after
// them, as ssh(1) does: a server that now offers only another type (its
// ed25519 key removed) is then met with the changed-key warning, not "no
// common algorithm for host key". Nil (nothing on record) keeps the
// library's default order.
func preferKnown(known []string) []string {
	if len(known) == 0 {
		return nil
	}
	out := slices.Clone(known)
	for _, a := range ssh.SupportedAlgorithms().HostKeys {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// HostKeyCache keeps parsed known_hosts files between dials. Without it every
// dial parses them again, which for a fleet whose N keys are in one file is
// O(N) per dial and O(N²) per run. A file is parsed again when its size,
// modification time or inode changed, so a key appended by trust on first
// use (or by hand) is seen by the next dial, and a removed or replaced key
// is not trusted any longer. Create one with NewHostKeyCache and share it
// through Config.HostKeyCache; it is safe for concurrent dials.
type HostKeyCache struct {
	mu  sync.Mutex
	dbs map[string]*parsedKnownHosts // by the NUL-joined file list
}

// NewHostKeyCache returns an empty HostKeyCache.
func NewHostKeyCache() *HostKeyCache {
	return &HostKeyCache{dbs: make(map[string]*parsedKnownHosts)}
}

// parsedKnownHosts is a file list as parsed, with the files' stat from
// before the parse.
type parsedKnownHosts struct {
	stats []os.FileInfo
	db    *knownhosts.HostKeyDB
	index *knownIndex // nil: files the index cannot answer for
}

// load returns the parsed files, parsing them only if one has changed since
// the last parse. The lock is held while parsing so that dials starting
// together wait for one parse instead of each doing their own.
func (c *HostKeyCache) load(files []string) (*parsedKnownHosts, error) {
	key := strings.Join(files, "\x00")
	c.mu.Lock()
	defer c.mu.Unlock()
	// Stat before parsing: a change between the two makes the next dial
	// parse again needlessly, whereas the other order could miss it.
	stats, err := statKnownHosts(files)
	if err != nil {
		return nil, err
	}
	if p := c.dbs[key]; p != nil && slices.EqualFunc(p.stats, stats, sameVersion) {
		return p, nil
	}
	db, err := parseKnownHosts(files, stats)
	if err != nil {
		return nil, err
	}
	p := &parsedKnownHosts{stats: stats, db: db, index: indexKnownHosts(existing(files, stats))}
	c.dbs[key] = p
	return p, nil
}

// sameVersion reports whether two stats of a known_hosts file (nil: it did
// not exist) show the same content. TOFU appends, so the size alone catches
// it; the inode catches a file of the same size put in place by a rename, as
// editors and ssh-keygen -R do.
func sameVersion(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// loadKnownHosts parses the files as they are now, without an index: for
// one dial it would cost what it saves.
func loadKnownHosts(files []string) (*parsedKnownHosts, error) {
	stats, err := statKnownHosts(files)
	if err != nil {
		return nil, err
	}
	db, err := parseKnownHosts(files, stats)
	if err != nil {
		return nil, err
	}
	return &parsedKnownHosts{stats: stats, db: db}, nil
}

// statKnownHosts stats each file; a file that does not exist has a nil entry
// (it counts as empty).
func statKnownHosts(files []string) ([]os.FileInfo, error) {
	stats := make([]os.FileInfo, len(files))
	for i, f := range files {
		fi, err := os.Stat(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("known hosts: %w", err)
		}
		stats[i] = fi
	}
	return stats, nil
}

// parseKnownHosts parses the files that existed when stats were taken.
func parseKnownHosts(files []string, stats []os.FileInfo) (*knownhosts.HostKeyDB, error) {
	db, err := knownhosts.NewDB(existing(files, stats)...)
	if err != nil {
		return nil, fmt.Errorf("known hosts: %w", err)
	}
	return db, nil
}

// existing returns the files that existed when stats were taken.
func existing(files []string, stats []os.FileInfo) []string {
	var out []string
	for i, f := range files {
		if stats[i] != nil {
			out = append(out, f)
		}
	}
	return out
}

// check is the ssh.HostKeyCallback.
func (h *hostKeyChecker) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.accepted != nil && bytes.Equal(h.accepted, key.Marshal()) {
		return nil
	}
	if h.index != nil && h.index.holds(hostname, key) {
		return nil
	}
	err := h.db(hostname, remote, key)
	if err == nil {
		return nil
	}
	var keyErr *xknownhosts.KeyError
	if cert, ok := key.(*ssh.Certificate); ok && !errors.As(err, &keyErr) {
		// The library's "no authorities for hostname" may name port 22
		// after retrying wildcard patterns there: name what was dialed.
		return fmt.Errorf("host key of %s (%s): its host certificate is signed by CA %s %s, "+
			"which no @cert-authority line in %s trusts for %s (a pattern must match [host]:port for a port other than 22)",
			h.name, hostname, cert.SignatureKey.Type(), ssh.FingerprintSHA256(cert.SignatureKey),
			strings.Join(h.files, ", "), knownhosts.Normalize(hostname))
	}
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
			if err := appendKnownHost(h.files[0], hostname, remote, key, h.hash); err != nil {
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

// appendKnownHost records key for hostname (and the remote IP, if different
// and the line is not hashed) at the end of file, creating it 0600 and its
// directory 0700 if missing. A hashed line is HashKnownHosts' |1|salt|hash,
// which ssh-keygen -F finds.
func appendKnownHost(file, hostname string, remote net.Addr, key ssh.PublicKey, hash bool) error {
	var line bytes.Buffer
	if hash {
		fmt.Fprintf(&line, "%s %s %s\n", xknownhosts.HashHostname(knownhosts.Normalize(hostname)),
			key.Type(), base64.StdEncoding.EncodeToString(key.Marshal()))
	} else if err := knownhosts.WriteKnownHost(&line, hostname, remote, key); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600) //nolint:gosec // G304: the known_hosts file the inventory names
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
