package inventory

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// MaxSize is the largest inventory file fleetfix reads, in bytes: far
// beyond any real fleet's (a 10,000-host inventory is about 1 MiB), and
// small enough that a wrong file (a log, a disk image) is refused before it
// is read into memory and parsed.
const MaxSize = 10 << 20

// Load reads, parses and validates the inventory file at path. Relative
// paths inside it are relative to its directory. An invalid inventory yields
// an *Error listing every problem found; a file over MaxSize is refused
// unread.
func Load(path string) (*Inventory, error) {
	f, err := os.Open(path) //nolint:gosec // G304: reading the file the operator named is the point
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	defer func() { _ = f.Close() }()
	// One byte past the cap tells a file at the cap from one beyond it,
	// also for a pipe or a file still growing, which stat cannot size.
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates an inventory read from path; path names the
// file in problems and anchors relative paths. Artifacts are checked on the
// local file system. An invalid inventory yields an *Error.
func Parse(path string, data []byte) (*Inventory, error) {
	p := &problems{file: path}
	if len(data) > MaxSize {
		p.add(1, "", "the file is over %d MiB; an inventory is YAML text, is this the right file?", MaxSize>>20)
		return nil, p.err()
	}
	root := parseDocument(p, data)
	if len(p.list) > 0 {
		return nil, p.err()
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		dir = filepath.Dir(path)
	}
	l := &loader{p: p, inv: &Inventory{Path: path, dir: dir}, said: map[said]bool{}}
	var doc value
	if root != nil {
		doc = at(root, "")
	}
	l.load(doc)
	if len(p.list) > 0 {
		return nil, p.err()
	}
	return l.inv, nil
}

// loader builds an Inventory while walking the document's node tree,
// reporting each mistake where it is written.
type loader struct {
	p   *problems
	inv *Inventory
	// Where the defaults and each loaded bastion and host came from, for
	// the checks across entries.
	defaults          fields
	bastionAt, hostAt []fields
	// said holds the mistakes reported, by node: an anchor merged or
	// aliased in several places is read once for each, and its mistakes
	// are said once, where first read.
	said map[said]bool
}

type said struct {
	n   *yaml.Node
	msg string
}

// add reports a problem about v.
func (l *loader) add(v value, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if n := v.node(); n != nil {
		if l.said[said{n, msg}] {
			return
		}
		l.said[said{n, msg}] = true
	}
	l.p.add(v.line, v.path, "%s", msg)
}

// topKeys are the sections of an inventory, in the order the example
// documents them.
func topKeys() []string {
	return []string{"defaults", "bastions", "hosts", "groups", "services", "rollout"}
}

func (l *loader) load(doc value) {
	top, ok := l.mapping(doc, topKeys()...)
	if !ok {
		return
	}
	if l.defaults, ok = l.mapping(top.get("defaults"), append(connKeys(), "ssh_config")...); ok {
		l.inv.Defaults = l.conn(l.defaults)
	}
	given := l.inv.Defaults
	l.inv.given = &given
	l.inv.SSHConfig = true
	if b := l.flag(l.defaults.get("ssh_config")); b != nil {
		l.inv.SSHConfig = *b
	}
	l.inv.Defaults = withBuiltinDefaults(l.inv.Defaults)
	l.hosts(top.get("bastions"), top.get("hosts"))
	l.groups(top.get("groups"))
	l.proxyJumps()
	l.endpoints()
	l.services(top.get("services"))
	l.rollout(top.get("rollout"))
}
