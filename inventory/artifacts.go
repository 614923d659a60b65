package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/fleetfix/fleetfix/internal/unixmode"
	"gopkg.in/yaml.v3"
)

var ownerRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]*[$]?(:[a-z_][a-z0-9_-]*[$]?)?$`)

// artifact reads the artifact mapping f.
func (l *loader) artifact(f fields) Artifact {
	var a Artifact
	src := f.get("src")
	if s, ok := l.str(src); ok {
		a.Src = l.source(s, src)
	}
	dest := f.get("dest")
	if d, ok := l.str(dest); ok {
		l.dest(d, dest)
		a.Dest = d
	}
	if mode := f.get("mode"); mode.present() {
		m, err := parseMode(mode.node())
		if err != nil {
			l.add(mode, "%v", err)
		}
		a.Mode = m
	}
	a.Owner = l.matching(f.get("owner"), ownerRE, "%q is not user or user:group")
	return a
}

// source resolves the local file src given at v, and checks it now so that
// a typo fails before any host is touched, not halfway through a batch. It
// returns "" when src is unusable.
func (l *loader) source(src string, v value) string {
	switch {
	case src == "":
		l.add(v, "required")
		return ""
	case hasControl(src):
		l.add(v, "path contains control characters")
		return ""
	}
	if rest, ok := tildePath(src); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			l.add(v, "cannot expand ~: %v", err)
			return ""
		}
		src = filepath.Join(home, rest)
	} else if strings.HasPrefix(src, "~") {
		l.add(v, "only ~ and ~/ are expanded, not ~user: %q", src)
		return ""
	}
	if !filepath.IsAbs(src) {
		src = filepath.Join(l.inv.dir, src)
	}
	src = filepath.Clean(src)
	fi, err := os.Stat(src)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		l.add(v, "%s does not exist", src)
	case err != nil:
		l.add(v, "%v", err)
	case !fi.Mode().IsRegular():
		l.add(v, "%s is not a regular file", src)
	}
	return src
}

// dest checks the remote path d given at v.
func (l *loader) dest(d string, v value) {
	switch {
	case d == "":
		l.add(v, "required")
	case hasControl(d):
		l.add(v, "path contains control characters")
	case !path.IsAbs(d):
		l.add(v, "%q must be an absolute path", d)
	case slices.Contains(strings.Split(d, "/"), ".."):
		l.add(v, "%q must not contain ..", d)
	case path.Clean(d) != d:
		l.add(v, "%q is not a clean path; write %q", d, path.Clean(d))
	case d == "/":
		l.add(v, "must name a file, not /")
	}
}

// parseMode reads a file mode from the node n. The text is always octal,
// as with chmod, whether the YAML says "0755", 0755, 0o755 or 755: YAML 1.2
// would read an unquoted 0755 as decimal 755, which is never what is meant.
func parseMode(n *yaml.Node) (*fs.FileMode, error) {
	if n.Kind != yaml.ScalarNode {
		return nil, errors.New(`must be octal permission bits, such as "0755"`)
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(n.Value, "0o"), "0O")
	if digits == "" || strings.TrimLeft(digits, "01234567") != "" {
		return nil, fmt.Errorf("%q is not octal permission bits, such as \"0755\"", n.Value)
	}
	v, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || v > 0o7777 {
		return nil, fmt.Errorf("%q is above 07777", n.Value)
	}
	m := unixmode.FromBits(uint32(v))
	return &m, nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
