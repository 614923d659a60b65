package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
)

// cleanupTimeout bounds removing temporary files after a failed upload; it
// runs even when the upload's context was cancelled.
const cleanupTimeout = 30 * time.Second

// maxTempBase and maxTempTag keep ".<base>.fleetfix-tmp-<tag>-<16 hex>"
// within NAME_MAX (255).
const (
	maxTempBase = 191
	maxTempTag  = 32
)

// installScript moves an uploaded file into place as the final step of
// Upload, in one round trip (scripts/install.sh, whose header lists its
// arguments).
var installScript = mustScript("install.sh")

// Upload writes r to dst atomically and returns the sha256 hex of what is now
// at dst. Readers of dst see the old file or the complete new one, never a
// partial one, and a binary running from dst keeps running.
//
// The data goes over SFTP to a temporary file, next to dst when uploading
// as the login user; with Become, SFTP still runs as the login user, so it is
// staged in a private mktemp -d directory under /tmp and copied next to dst
// as root. There it is fsynced, its sha256 checked against the one computed
// while sending, chowned to owner ("user:group", "user", or "" to keep the
// creating user, i.e. root with Become), chmodded to mode, and renamed over
// dst. dst must be absolute and clean, and its directory must exist; a
// symlink at dst is replaced, not followed. Temporary files are removed on
// failure, even after ctx is cancelled. ctx is checked between chunks of
// the transfer; an SFTP request stuck on a dead connection ends when
// keepalives close it.
func (c *Client) Upload(ctx context.Context, r io.Reader, dst string, mode fs.FileMode, owner string) (string, error) {
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("upload %s to %s: %w", dst, c.cfg.Name, err)
	}
	if err := checkDst(dst); err != nil {
		return fail(err)
	}
	if owner != "" && !validOwner(owner) {
		return fail(fmt.Errorf("invalid owner %q: want user or user:group", owner))
	}
	perm, err := unixPerm(mode)
	if err != nil {
		return fail(err)
	}
	suffix, err := randomHex()
	if err != nil {
		return fail(err)
	}
	dir := path.Dir(dst)
	tmp := path.Join(dir, tempName(path.Base(dst), c.cfg.TempTag, suffix))

	// A small file (a drop-in, a script, a manifest) travels on the install
	// command's stdin: one session, where SFTP takes an open, a chmod, the
	// writes, a close, and with sudo a staging directory.
	var head bytes.Buffer
	if _, err := io.CopyN(&head, ctxReader{ctx, r}, inlineMax+1); err != nil && !errors.Is(err, io.EOF) {
		return fail(fmt.Errorf("read: %w", err))
	}
	if head.Len() <= inlineMax {
		sum := sha256.Sum256(head.Bytes())
		return c.install(ctx, head.Bytes(), "-", "", tmp, dst, perm, owner, hex.EncodeToString(sum[:]))
	}
	r = io.MultiReader(&head, r)

	var stageDir, src string
	staged := tmp
	if c.sudoRoot {
		out, err := c.exec(ctx, command{argv: []string{"mktemp", "-d", "/tmp/fleetfix.XXXXXXXXXX"}})
		if err != nil {
			return fail(fmt.Errorf("staging directory: %w", err))
		}
		stageDir = strings.TrimSuffix(string(out), "\n")
		if !strings.HasPrefix(stageDir, "/tmp/fleetfix.") || path.Clean(stageDir) != stageDir {
			return fail(fmt.Errorf("staging directory: mktemp said %q", out))
		}
		src = stageDir + "/data"
		staged = src
	}

	sum, err := c.stream(ctx, r, staged)
	if err != nil {
		return fail(c.uploadCleanup(ctx, err, tmp, stageDir))
	}
	return c.install(ctx, nil, src, stageDir, tmp, dst, perm, owner, sum)
}

// inlineMax is the largest upload sent on stdin rather than over SFTP.
const inlineMax = 64 << 10

// install runs installScript (with stdin, for src "-") and cleans up after
// a failure.
func (c *Client) install(ctx context.Context, stdin []byte, src, stageDir, tmp, dst string, perm uint32, owner, sum string) (string, error) {
	_, err := c.exec(ctx, command{
		argv: []string{"sh", "-c", installScript, "fleetfix-install",
			src, stageDir, tmp, dst, path.Dir(dst), fmt.Sprintf("%04o", perm), owner, sum},
		stdin:   stdin,
		become:  true,
		display: []string{"fleetfix-install", dst},
	})
	if err != nil {
		return "", fmt.Errorf("upload %s to %s: %w", dst, c.cfg.Name, c.uploadCleanup(ctx, err, tmp, stageDir))
	}
	return sum, nil
}

// stream copies r to a new file at name over SFTP and returns its sha256.
func (c *Client) stream(ctx context.Context, r io.Reader, name string) (string, error) {
	sc, err := c.sftpClient()
	if err != nil {
		return "", err
	}
	f, err := sc.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		c.sftpFailed(sc, err)
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	// Before any data: the server's umask may leave the file world-readable
	// and the content may be a secret.
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		c.sftpFailed(sc, err)
		return "", fmt.Errorf("chmod %s: %w", name, err)
	}
	h := sha256.New()
	// Concurrent writes keep a high-latency link busy; the plain ReadFrom
	// only pipelines readers of known size.
	_, err = f.ReadFromWithConcurrency(io.TeeReader(ctxReader{ctx, r}, h), 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		c.sftpFailed(sc, err)
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// uploadCleanup removes what a failed upload may have left, in one command
// as root (root can remove the login user's staging directory too), and
// returns cause with any cleanup failure appended.
func (c *Client) uploadCleanup(ctx context.Context, cause error, tmp, stageDir string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	argv := []string{"rm", "-rf", "--", tmp}
	if stageDir != "" {
		argv = append(argv, stageDir)
	}
	if _, err := c.exec(ctx, command{argv: argv, become: true}); err != nil {
		return fmt.Errorf("%w (and removing temporary files failed: %v)", cause, err)
	}
	return cause
}

func checkDst(dst string) error {
	switch {
	case !path.IsAbs(dst):
		return errors.New("destination must be an absolute path")
	case path.Clean(dst) != dst:
		return fmt.Errorf("destination must be a clean path (%s)", path.Clean(dst))
	case dst == "/":
		return errors.New("destination is the root directory")
	case strings.IndexByte(dst, 0) >= 0:
		return errors.New("destination contains a NUL byte")
	}
	return nil
}

// validOwner accepts "user" or "user:group", by name or number. Names may
// end in $ (Samba machine accounts); a leading '-' is refused so an owner can
// never look like an option.
func validOwner(owner string) bool {
	user, group, hasGroup := strings.Cut(owner, ":")
	return validAccount(user) && (!hasGroup || validAccount(group))
}

func validAccount(s string) bool {
	s = strings.TrimSuffix(s, "$")
	if s == "" || s[0] == '-' || s[0] == '.' {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '_' || r == '.' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}

// tempName is the temporary name, next to the destination, of a file being
// uploaded: hidden, and recognisable as ours, and with tag as whose, if a
// crash leaves it behind.
func tempName(base, tag, suffix string) string {
	if len(base) > maxTempBase {
		base = base[:maxTempBase]
	}
	if tag != "" {
		suffix = tag + "-" + suffix
	}
	return "." + base + ".fleetfix-tmp-" + suffix
}

// validTempTag accepts what goes into a temporary name unquoted in a shell
// glob: letters, digits and _.
func validTempTag(tag string) bool {
	if len(tag) > maxTempTag {
		return false
	}
	for _, r := range tag {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
		if !ok {
			return false
		}
	}
	return true
}

func randomHex() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random name: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// ctxReader stops a copy between reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
