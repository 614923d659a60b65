package inventory

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/fleetfix/fleetfix/sshcfg"
)

// Resolve returns the connection h actually uses. Settings come from, in
// increasing precedence: the built-in defaults, the defaults section, and
// h's own keys. A host inherits the default proxy_jump; a bastion does not,
// nor does the host the default names, since a default bastion would
// otherwise have to jump through itself. A proxy_jump may name a bastion or
// a host: a host serving as a bastion connects as it does as a target.
// Resolve reads no ssh_config; ResolveSSH does.
func (inv *Inventory) Resolve(h Target) ResolvedConn {
	_, isBastion := inv.bastion(h.Name)
	// Validation refuses cycles; the hop limit only keeps a hand-built,
	// unvalidated Inventory from recursing forever. Without ssh_config
	// nothing can fail.
	rc, _ := inv.resolve(h, isBastion, nil, false, len(inv.Bastions)+len(inv.Hosts))
	return rc
}

// resolve merges h's layers (see ResolveSSH); sc nil reads no ssh_config.
func (inv *Inventory) resolve(h Target, isBastion bool, sc *sshcfg.Config, explain bool, hops int) (ResolvedConn, error) {
	// The inventory's user wins over ssh_config's as ssh -l does, and with
	// neither fleetfix connects as root: the user a Match user line sees.
	host, err := sc.LookupAs(h.Address, cmp.Or(h.User, inv.defaultsLayer().User), defaultUser)
	if err != nil {
		return ResolvedConn{Name: h.Name, Address: h.Address}, err
	}
	ly := &layers{host: h.Conn, defs: inv.defaultsLayer(), sc: host}
	if explain {
		ly.origin = map[string]string{}
	}
	rc := ResolvedConn{Name: h.Name, Address: h.Address, Origin: ly.origin}
	c := mergeConn(withBuiltinDefaults(inv.Defaults), h.Conn)
	rc.Become, rc.BecomePassword = *c.Become, *c.BecomePassword
	if err := inv.endpoint(ly, &rc); err != nil {
		return rc, fmt.Errorf("%s: %w", h.Name, err)
	}
	t := sc.Tokens(rc.Address, h.Address, rc.User, rc.Port)
	for _, step := range []func() error{
		func() error { return inv.keys(ly, &rc, t) },
		func() error { return inv.hostKeys(ly, &rc, t) },
		func() error { return inv.timing(ly, &rc) },
		func() error { return inv.via(inv.chooseProxy(ly, h.Name, isBastion), &rc, sc, t, explain, hops) },
	} {
		if err := step(); err != nil {
			return rc, fmt.Errorf("%s: %w", h.Name, err)
		}
	}
	return rc, nil
}

// defaultsLayer is Defaults without the built-in defaults the file did
// not set: what ssh_config may not override. Defaults itself is the
// source, so that a caller's change to it (a copy without proxy_jump)
// takes effect; a hand-built Inventory has only Defaults, all of it given.
func (inv *Inventory) defaultsLayer() Conn {
	d := inv.Defaults
	if inv.given == nil {
		return d
	}
	g, b := *inv.given, withBuiltinDefaults(Conn{})
	if g.User == "" && d.User == b.User {
		d.User = ""
	}
	if g.Port == 0 && d.Port == b.Port {
		d.Port = 0
	}
	if g.Agent == nil && d.Agent != nil && *d.Agent == *b.Agent {
		d.Agent = nil
	}
	if g.KnownHosts == nil && slices.Equal(d.KnownHosts, b.KnownHosts) {
		d.KnownHosts = nil
	}
	if g.ConnectTimeout == 0 && d.ConnectTimeout == b.ConnectTimeout {
		d.ConnectTimeout = 0
	}
	return d // become and become_password are the inventory's alone
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
	if over.ProxyCommand != "" {
		base.ProxyCommand = over.ProxyCommand
	}
	if over.MaxStartups != 0 {
		base.MaxStartups = over.MaxStartups
	}
	if over.ConnectRetries != nil {
		base.ConnectRetries = over.ConnectRetries
	}
	return base
}
