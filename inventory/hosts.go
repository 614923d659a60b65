package inventory

import (
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strings"

	"github.com/fleetfix/fleetfix/sshcfg"
)

var (
	// Names end up in --limit, logs and local file names, so they start
	// with a letter or digit: no "-x" that reads as a flag, no "..".
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	// A DNS name; underscores are allowed because internal DNS has them.
	hostnameRE = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$`)
	userRE     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._@-]*[$]?$`)
)

// connKeys are the keys of a connection, in defaults and in every host and
// bastion alike.
func connKeys() []string {
	return []string{"user", "port", "identity_files", "agent", "known_hosts",
		"connect_timeout", "become", "become_password", "proxy_jump", "proxy_command", "max_startups", "connect_retries"}
}

// bastionKeys has no groups: bastions are not rollout targets.
func bastionKeys() []string { return append([]string{"name", "address"}, connKeys()...) }

func hostKeys() []string { return append([]string{"name", "address", "groups"}, connKeys()...) }

func (l *loader) conn(f fields) Conn {
	var c Conn
	user := f.get("user")
	if u, _ := l.str(user); u != "" {
		if !userRE.MatchString(u) || len(u) > 255 {
			l.add(user, "%q is not a valid user name", u)
		}
		c.User = u
	}
	port := f.get("port")
	if n, set := scalar[int](l, port, wantInt); set {
		if n < 1 || n > 65535 {
			l.add(port, "%d is out of range 1-65535", n)
		}
		c.Port = n
	}
	c.IdentityFiles = l.localPaths(f.get("identity_files"))
	c.Agent = l.flag(f.get("agent"))
	c.KnownHosts = l.localPaths(f.get("known_hosts"))
	c.ConnectTimeout, _ = l.positive(f.get("connect_timeout"))
	c.Become = l.flag(f.get("become"))
	c.BecomePassword = l.flag(f.get("become_password"))
	jump := f.get("proxy_jump")
	if j, _ := l.str(jump); j != "" {
		if j != ProxyJumpNone && !nameRE.MatchString(j) {
			l.add(jump, "%q is not a valid bastion name", j)
		}
		c.ProxyJump = j
	}
	c.ProxyCommand = l.proxyCommand(f.get("proxy_command"))
	ms := f.get("max_startups")
	if n, set := scalar[int](l, ms, wantInt); set {
		if n < 1 {
			l.add(ms, "must be at least 1, got %d", n)
		}
		c.MaxStartups = n
	}
	cr := f.get("connect_retries")
	if n, set := scalar[int](l, cr, wantInt); set {
		if n < 0 || n > 10 {
			l.add(cr, "%d is out of range 0-10", n)
		}
		c.ConnectRetries = &n
	}
	if c.ProxyJump != "" && c.ProxyCommand != "" {
		l.add(f.get("proxy_command"), "proxy_jump and proxy_command both given: set one")
	}
	return c
}

// proxyCommand reads a proxy_command, checked as it will be run: split
// into arguments without a shell, with only the tokens a host has.
func (l *loader) proxyCommand(v value) string {
	cmd, _ := l.str(v)
	if cmd == "" || cmd == ProxyJumpNone {
		return cmd
	}
	if _, err := sshcfg.Command(cmd, sshcfg.Tokens{'h': "h", 'p': "22", 'r': "r", 'n': "n"}); err != nil {
		l.add(v, "%v (tokens: %%h %%p %%r %%n %%%%)", err)
	}
	return cmd
}

// localPaths reads a list of paths on the operator's machine.
func (l *loader) localPaths(v value) []string {
	list, from, _ := l.strs(v)
	for i, p := range list {
		switch {
		case p == "":
			l.add(from[i], "empty path")
		case hasControl(p):
			l.add(from[i], "path contains control characters")
		case strings.HasPrefix(p, "~"):
			if _, ok := tildePath(p); !ok {
				l.add(from[i], "only ~ and ~/ are expanded, not ~user: %q", p)
			}
		}
	}
	return list
}

// hosts reads the bastions and the hosts. They share one namespace:
// proxy_jump, --limit and the logs all refer to machines by name.
func (l *loader) hosts(bastions, hosts value) {
	seen := make(map[string]string)
	items, _ := l.list(bastions, wantList)
	for _, it := range items {
		f, ok := l.mapping(it, bastionKeys()...)
		if !ok {
			continue
		}
		t := l.target(f, seen)
		if t.Name == ProxyJumpNone {
			l.add(f.get("name"), "%q is reserved: proxy_jump: none means no bastion", t.Name)
		}
		l.inv.Bastions = append(l.inv.Bastions, t)
		l.bastionAt = append(l.bastionAt, f)
	}
	items, ok := l.list(hosts, wantList)
	if ok && hosts.empty() {
		l.add(hosts, "at least one host is required")
	}
	for _, it := range items {
		f, ok := l.mapping(it, hostKeys()...)
		if !ok {
			continue
		}
		l.inv.Hosts = append(l.inv.Hosts, l.target(f, seen))
		l.hostAt = append(l.hostAt, f)
	}
}

// target reads what hosts and bastions share; seen holds the names taken.
func (l *loader) target(f fields, seen map[string]string) Target {
	t := Target{Line: f.at.line}
	nv := f.get("name")
	if n, ok := l.str(nv); ok {
		t.Name = n
		switch _, dup := seen[n]; {
		case n == "":
			l.add(nv, "required")
		case !nameRE.MatchString(n):
			l.add(nv, "%q is not a valid name: use letters, digits, '.', '_' and '-', starting with a letter or digit", n)
		case dup && strings.HasPrefix(seen[n], "bastions[") && strings.HasPrefix(f.at.path, "hosts["):
			l.add(nv, "duplicate name %q, already used by %s; a host serves as a bastion by its name: drop the bastions entry", n, seen[n])
		case dup:
			l.add(nv, "duplicate name %q, already used by %s", n, seen[n])
		default:
			seen[n] = fmt.Sprintf("%s (line %d)", f.at.path, f.at.line)
		}
	}
	av := f.get("address")
	if a, ok := l.str(av); ok {
		t.Address = a
		l.address(a, av)
	}
	t.Conn = l.conn(f)
	return t
}

func (l *loader) address(a string, v value) {
	switch {
	case a == "":
		l.add(v, "required")
	case net.ParseIP(a) != nil:
	case strings.HasPrefix(a, "["):
		l.add(v, "write IPv6 addresses without brackets, and the port under port")
	case strings.Contains(a, ":"):
		l.add(v, "%q: give the address only; the port goes under port", a)
	case len(a) > 253 || !hostnameRE.MatchString(a):
		l.add(v, "%q is not a host name or IP address", a)
	}
}

// proxyJumps checks that every proxy_jump names a bastion or a host and
// that no chain of jumps loops.
func (l *loader) proxyJumps() {
	inv := l.inv
	names := make(map[string]bool)
	for _, m := range slices.Concat(inv.Bastions, inv.Hosts) {
		names[m.Name] = true
	}
	check := func(jump string, v value) {
		if jump == "" || jump == ProxyJumpNone || !nameRE.MatchString(jump) || names[jump] {
			return // absent, already refused as a bad name, or known
		}
		msg := fmt.Sprintf("unknown bastion %q", jump)
		if s := suggest(jump, slices.Sorted(maps.Keys(names))); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		l.add(v, "%s", msg)
	}
	check(inv.Defaults.ProxyJump, l.defaults.get("proxy_jump"))
	for i, b := range inv.Bastions {
		check(b.ProxyJump, l.bastionAt[i].get("proxy_jump"))
	}
	for i, h := range inv.Hosts {
		check(h.ProxyJump, l.hostAt[i].get("proxy_jump"))
	}
	l.jumpCycles()
}

// hop is one machine's next jump, and where the inventory says so.
type hop struct {
	next string
	at   value
}

// hops maps every machine that connects through another to that hop: a
// bastion's own proxy_jump, a host's own or the default one (which a host
// that is the default bastion does not inherit).
func (l *loader) hops() map[string]hop {
	out := make(map[string]hop)
	for i, b := range l.inv.Bastions {
		if b.ProxyJump != "" && b.ProxyJump != ProxyJumpNone {
			out[b.Name] = hop{b.ProxyJump, l.bastionAt[i].get("proxy_jump")}
		}
	}
	def := l.inv.Defaults.ProxyJump
	for i, h := range l.inv.Hosts {
		switch {
		case h.ProxyJump == ProxyJumpNone:
		case h.ProxyJump != "":
			out[h.Name] = hop{h.ProxyJump, l.hostAt[i].get("proxy_jump")}
		case def != "" && def != ProxyJumpNone && def != h.Name:
			out[h.Name] = hop{def, l.defaults.get("proxy_jump")}
		}
	}
	return out
}

// jumpCycles follows each machine's chain; a name seen twice on one walk is
// a cycle. Each cycle is reported once, at its first member in file order
// (bastions, then hosts), on the proxy_jump that member follows.
func (l *loader) jumpCycles() {
	hops := l.hops()
	inCycle := make(map[string]bool)
	for _, m := range slices.Concat(l.inv.Bastions, l.inv.Hosts) {
		if inCycle[m.Name] {
			continue
		}
		chain := []string{m.Name}
		for cur := m.Name; ; {
			h, ok := hops[cur]
			if !ok {
				break
			}
			cur = h.next
			if at := slices.Index(chain, cur); at >= 0 {
				if at == 0 {
					for _, n := range chain {
						inCycle[n] = true
					}
					chain = append(chain, cur)
					l.add(hops[m.Name].at, "proxy_jump cycle: %s", strings.Join(chain, " -> "))
				}
				// Otherwise m only leads into a cycle, reported at its
				// own first member.
				break
			}
			chain = append(chain, cur)
		}
	}
}

// endpoints refuses two hosts that reach the same sshd: the rollout would
// fix, back up and reboot one machine twice, concurrently.
func (l *loader) endpoints() {
	type endpoint struct {
		addr string
		port int
		jump string
	}
	seen := make(map[endpoint]string)
	for i, h := range l.inv.Hosts {
		if h.Address == "" {
			continue
		}
		c := mergeConn(l.inv.Defaults, h.Conn)
		jump := c.ProxyJump
		if jump == ProxyJumpNone {
			jump = ""
		}
		ep := endpoint{strings.ToLower(h.Address), c.Port, jump}
		at := l.hostAt[i]
		if prev, dup := seen[ep]; dup {
			l.add(at.get("address"), "%s port %d is the same machine as %s", h.Address, c.Port, prev)
			continue
		}
		seen[ep] = fmt.Sprintf("%s (%s)", at.at.path, h.Name)
	}
}
