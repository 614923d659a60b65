package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Resolve returns the connection h actually uses. Settings come from, in
// increasing precedence: the built-in defaults, the defaults section, and
// h's own keys. A host inherits the default proxy_jump; a bastion does not,
// nor does the host the default names, since a default bastion would
// otherwise have to jump through itself. A proxy_jump may name a bastion or
// a host: a host serving as a bastion connects as it does as a target.
func (inv *Inventory) Resolve(h Target) ResolvedConn {
	_, isBastion := inv.bastion(h.Name)
	// Validation refuses cycles; the hop limit only keeps a hand-built,
	// unvalidated Inventory from recursing forever.
	return inv.resolve(h, isBastion, len(inv.Bastions)+len(inv.Hosts))
}

func (inv *Inventory) resolve(h Target, isBastion bool, hops int) ResolvedConn {
	c := mergeConn(withBuiltinDefaults(inv.Defaults), h.Conn)
	jump := h.ProxyJump
	if jump == "" && !isBastion && inv.Defaults.ProxyJump != h.Name {
		jump = inv.Defaults.ProxyJump
	}
	rc := ResolvedConn{
		Name:           h.Name,
		Address:        h.Address,
		User:           c.User,
		Port:           c.Port,
		IdentityFiles:  inv.expandPaths(c.IdentityFiles),
		KnownHosts:     inv.expandPaths(c.KnownHosts),
		Agent:          *c.Agent,
		Become:         *c.Become,
		BecomePassword: *c.BecomePassword,
		ConnectTimeout: c.ConnectTimeout,
	}
	if jump != "" && jump != ProxyJumpNone && hops > 0 {
		if b, ok := inv.bastion(jump); ok {
			j := inv.resolve(b, true, hops-1)
			rc.Jump = &j
		} else if t, ok := inv.host(jump); ok {
			j := inv.resolve(t, false, hops-1)
			rc.Jump = &j
		}
	}
	return rc
}

// Select returns the hosts named by limit, each entry a host or group name,
// in inventory order and without duplicates; an empty limit selects every
// host. Unknown names, bastions and empty names are errors: a typo in
// --limit must never widen or silently shrink a rollout.
func (inv *Inventory) Select(limit []string) ([]Target, error) {
	if len(limit) == 0 {
		return slices.Clone(inv.Hosts), nil
	}
	want := make(map[string]bool)
	var errs []error
	for _, raw := range limit {
		name := strings.TrimSpace(raw)
		if _, ok := inv.host(name); ok {
			want[name] = true
			continue
		}
		if members, ok := inv.Groups[name]; ok {
			for _, m := range members {
				want[m] = true
			}
			continue
		}
		switch _, isBastion := inv.bastion(name); {
		case name == "":
			errs = append(errs, errors.New("limit: empty host or group name"))
		case isBastion:
			errs = append(errs, fmt.Errorf("limit: %q is a bastion, not a rollout target", name))
		default:
			msg := fmt.Sprintf("limit: no host or group named %q", name)
			if s := suggest(name, inv.targetNames()); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			errs = append(errs, errors.New(msg))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var out []Target
	for _, h := range inv.Hosts {
		if want[h.Name] {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("limit: %s selects no hosts", strings.Join(limit, ","))
	}
	return out, nil
}

func (inv *Inventory) host(name string) (Target, bool) {
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h, true
		}
	}
	return Target{}, false
}

func (inv *Inventory) bastion(name string) (Target, bool) {
	for _, b := range inv.Bastions {
		if b.Name == name {
			return b, true
		}
	}
	return Target{}, false
}

// targetNames lists the names --limit accepts, for suggestions.
func (inv *Inventory) targetNames() []string {
	var names []string
	for _, h := range inv.Hosts {
		names = append(names, h.Name)
	}
	for g := range inv.Groups {
		names = append(names, g)
	}
	sort.Strings(names)
	return names
}

// expandPaths expands a leading ~ to the home directory and makes relative
// paths relative to the inventory file. If the home directory is unknown the
// path is left as it is, so the SSH layer fails on it by name.
func (inv *Inventory) expandPaths(paths []string) []string {
	if paths == nil {
		return nil
	}
	dir := inv.dir
	if dir == "" {
		dir = filepath.Dir(inv.Path)
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if rest, ok := tildePath(p); ok {
			home, err := os.UserHomeDir()
			if err != nil {
				out = append(out, p)
				continue
			}
			p = filepath.Join(home, rest)
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		out = append(out, filepath.Clean(p))
	}
	return out
}

// tildePath reports whether p is "~" or starts with "~/", and returns the
// part after the tilde.
func tildePath(p string) (string, bool) {
	if p == "~" {
		return "", true
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return rest, true
	}
	return "", false
}

// withBuiltinDefaults fills the zero fields of c with the built-in defaults.
func withBuiltinDefaults(c Conn) Conn {
	yes, no := true, false
	if c.User == "" {
		c.User = defaultUser
	}
	if c.Port == 0 {
		c.Port = defaultPort
	}
	if c.Agent == nil {
		c.Agent = &yes
	}
	if c.KnownHosts == nil {
		c.KnownHosts = []string{defaultKnownHosts}
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = defaultConnectTimeout
	}
	if c.Become == nil {
		c.Become = &no
	}
	if c.BecomePassword == nil {
		c.BecomePassword = &no
	}
	return c
}

// mergeConn returns base with every field that over sets replaced. Lists
// replace rather than append: a host that needs a different key usually
// must not be offered the default one too.
func mergeConn(base, over Conn) Conn {
	if over.User != "" {
		base.User = over.User
	}
	if over.Port != 0 {
		base.Port = over.Port
	}
	if over.IdentityFiles != nil {
		base.IdentityFiles = over.IdentityFiles
	}
	if over.Agent != nil {
		base.Agent = over.Agent
	}
	if over.KnownHosts != nil {
		base.KnownHosts = over.KnownHosts
	}
	if over.ConnectTimeout != 0 {
		base.ConnectTimeout = over.ConnectTimeout
	}
	if over.Become != nil {
		base.Become = over.Become
	}
	if over.BecomePassword != nil {
		base.BecomePassword = over.BecomePassword
	}
	if over.ProxyJump != "" {
		base.ProxyJump = over.ProxyJump
	}
	return base
}
