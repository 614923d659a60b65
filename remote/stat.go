package remote

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// FileInfo describes a path on a host. Symlinks are followed.
type FileInfo struct {
	Path   string
	Exists bool
	// Mode holds the permission bits plus fs.ModeSetuid, fs.ModeSetgid and
	// fs.ModeSticky; never file type bits. It can be passed to Upload as is.
	Mode   fs.FileMode
	Owner  string
	Group  string
	Size   int64
	SHA256 string // hex, only for regular files
}

// statScript describes a path in one round trip: "missing", or a "stat"
// line and, for a regular file, a "sha256" line (scripts/stat.sh).
var statScript = mustScript("stat.sh")

// Stat describes path; a missing path is FileInfo{Exists:false} with nil
// error. With Become it looks as root, so root-only files can be hashed.
func (c *Client) Stat(ctx context.Context, path string) (FileInfo, error) {
	if path == "" {
		return FileInfo{}, errors.New("stat: empty path")
	}
	out, err := c.exec(ctx, command{
		argv:    []string{"sh", "-c", statScript, "fleetfix-stat", path},
		become:  true,
		display: []string{"fleetfix-stat", path},
	})
	if err != nil {
		return FileInfo{}, fmt.Errorf("stat %s: %w", path, err)
	}
	fi, err := parseStat(path, out)
	if err != nil {
		return FileInfo{}, fmt.Errorf("stat %s on %s: %w", path, c.cfg.Name, err)
	}
	return fi, nil
}

// ParseStat parses a stat answer in statScript's form: a "stat MODE USER
// GROUP SIZE" line (stat -L -c '%f %U %G %s') and, for a regular file, a
// "sha256 HEX" line; or "missing". Callers that batch many reads into one
// script of their own use it to read the same answers Stat reads.
func ParseStat(path string, out []byte) (FileInfo, error) { return parseStat(path, out) }

// parseStat parses statScript's output, rejecting anything unexpected rather
// than guessing: a misparsed checksum could make a rollout skip a host.
func parseStat(path string, out []byte) (FileInfo, error) {
	s, ok := strings.CutSuffix(string(out), "\n")
	if !ok {
		return FileInfo{}, fmt.Errorf("unexpected output %q", out)
	}
	lines := strings.Split(s, "\n")
	if len(lines) == 1 && lines[0] == "missing" {
		return FileInfo{Path: path}, nil
	}
	f := strings.Split(lines[0], " ")
	if len(f) != 5 || f[0] != "stat" || f[2] == "" || f[3] == "" {
		return FileInfo{}, fmt.Errorf("unexpected stat line %q", lines[0])
	}
	raw, err := strconv.ParseUint(f[1], 16, 32)
	if err != nil {
		return FileInfo{}, fmt.Errorf("unexpected mode in %q", lines[0])
	}
	size, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil || size < 0 {
		return FileInfo{}, fmt.Errorf("unexpected size in %q", lines[0])
	}
	fi := FileInfo{
		Path:   path,
		Exists: true,
		Mode:   goMode(uint32(raw)),
		Owner:  f[2],
		Group:  f[3],
		Size:   size,
	}
	const typeMask, regular = 0o170000, 0o100000
	if uint32(raw)&typeMask != regular {
		if len(lines) != 1 {
			return FileInfo{}, fmt.Errorf("unexpected output %q", out)
		}
		return fi, nil
	}
	if len(lines) != 2 {
		return FileInfo{}, fmt.Errorf("no checksum for regular file in %q", out)
	}
	sum, ok := strings.CutPrefix(lines[1], "sha256 ")
	if !ok || !isSHA256Hex(sum) {
		return FileInfo{}, fmt.Errorf("unexpected checksum line %q", lines[1])
	}
	fi.SHA256 = sum
	return fi, nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}
