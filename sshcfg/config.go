// Package sshcfg reads the operator's OpenSSH client configuration
// (~/.ssh/config, /etc/ssh/ssh_config, their Include files) and tells, for
// one host alias, what each keyword fleetfix honours says and in which
// file and line. It applies no fleetfix policy: the inventory decides what
// wins over what.
package sshcfg

import (
	"cmp"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	sshconfig "github.com/kevinburke/ssh_config"
)

// Keywords fleetfix honours, lower-cased as the config matches them.
const (
	HostName              = "hostname"
	User                  = "user"
	Port                  = "port"
	IdentityFile          = "identityfile"
	IdentitiesOnly        = "identitiesonly"
	IdentityAgent         = "identityagent"
	CertificateFile       = "certificatefile"
	ProxyJump             = "proxyjump"
	ProxyCommand          = "proxycommand"
	UserKnownHostsFile    = "userknownhostsfile"
	GlobalKnownHostsFile  = "globalknownhostsfile"
	StrictHostKeyChecking = "stricthostkeychecking"
	ConnectTimeout        = "connecttimeout"
	ServerAliveInterval   = "serveraliveinterval"
	HashKnownHosts        = "hashknownhosts"
)

// multi are the keywords whose every occurrence counts, in order; for the
// others the first value obtained wins, as in ssh(1).
func multi(keyword string) bool {
	return keyword == IdentityFile || keyword == CertificateFile
}

func honoured(keyword string) bool {
	switch keyword {
	case HostName, User, Port, IdentityFile, IdentitiesOnly, IdentityAgent, CertificateFile,
		ProxyJump, ProxyCommand, UserKnownHostsFile, GlobalKnownHostsFile,
		StrictHostKeyChecking, ConnectTimeout, ServerAliveInterval, HashKnownHosts:
		return true
	}
	return false
}

// Paths are the files to read, as ssh(1) picks them.
type Paths struct {
	User   string // ~/.ssh/config, or the file of ssh -F; "" for none
	System string // /etc/ssh/ssh_config; "" for none (ssh -F reads no system file)
	Home   string // the home directory ~ and relative user Includes refer to
}

// DefaultPaths returns the files ssh(1) reads without -F; file, if not
// empty, replaces both, as -F does.
func DefaultPaths(file string) (Paths, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return Paths{}, fmt.Errorf("ssh_config: %w", err)
	}
	if file != "" {
		return Paths{User: file, Home: home}, nil
	}
	return Paths{User: filepath.Join(home, ".ssh", "config"), System: "/etc/ssh/ssh_config", Home: home}, nil
}

// Config is the parsed configuration. Its methods are safe for concurrent
// use; a Config that failed to load answers every Lookup with its error.
type Config struct {
	home      string
	localUser string
	files     []*file  // user first: the first value obtained wins
	skipped   []string // "file:line: Match ..." blocks left out
	err       error
}

// file is one parsed config file, the rules of its Match lines (by the
// index ruleHost gives) and, for each of its Include lines, the files it
// pulled in.
type file struct {
	path     string
	cfg      *sshconfig.Config
	rules    []matchRule
	includes map[*sshconfig.Include][]*file
}

// Failed returns a Config that answers every Lookup with err: a broken
// ssh_config then fails each connection with its reason, never silently
// falls back to other settings.
func Failed(err error) *Config { return &Config{err: err} }

// Load parses the files of p. A file that does not exist counts as empty,
// as for ssh(1); one that does not parse is an error naming it.
func Load(p Paths) (*Config, error) {
	c := &Config{home: p.Home, localUser: localUser()}
	for _, f := range []struct {
		path   string
		system bool
	}{{p.User, false}, {p.System, true}} {
		if f.path == "" {
			continue
		}
		parsed, err := c.parse(expandTilde(f.path, p.Home), f.system, 0)
		if err != nil {
			return nil, err
		}
		if parsed != nil {
			c.files = append(c.files, parsed)
		}
	}
	return c, nil
}

// maxIncludeDepth is ssh(1)'s limit on nested Include directives.
const maxIncludeDepth = 16

// parse reads one file and, recursively, those it includes; nil for a
// file that does not exist.
func (c *Config) parse(path string, system bool, depth int) (*file, error) {
	if depth > maxIncludeDepth {
		return nil, fmt.Errorf("ssh_config %s: Include nested more than %d deep (a loop?)", path, maxIncludeDepth)
	}
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator's own ssh_config
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ssh_config: %w", err)
	}
	data, rules, err := c.matchable(path, data)
	if err != nil {
		return nil, err
	}
	cfg, err := sshconfig.DecodeBytes(data)
	if err != nil {
		return nil, fmt.Errorf("ssh_config %s: %w", path, err)
	}
	f := &file{path: path, cfg: cfg, rules: rules, includes: map[*sshconfig.Include][]*file{}}
	for _, h := range cfg.Hosts {
		for _, n := range h.Nodes {
			inc, ok := n.(*sshconfig.Include)
			if !ok {
				continue
			}
			for _, pattern := range includeDirectives(inc) {
				matches, err := filepath.Glob(c.includePath(pattern, system))
				if err != nil {
					return nil, fmt.Errorf("ssh_config %s:%d: Include %s: %w", path, inc.Pos().Line, pattern, err)
				}
				for _, m := range matches {
					sub, err := c.parse(m, system, depth+1)
					if err != nil {
						return nil, err
					}
					if sub != nil {
						f.includes[inc] = append(f.includes[inc], sub)
					}
				}
			}
		}
	}
	return f, nil
}

// neverHost is a Host pattern no alias matches: it stands in for a Match
// block fleetfix cannot evaluate, keeping the file's line numbers.
const neverHost = "Host fleetfix.match-skipped.invalid"

// matchable rewrites each Match line, which the parser would match
// against the alias alone, into a Host line (ruleHost) for the rule that
// Lookup evaluates against the values obtained before it (see parseMatch).
// A block with a criterion fleetfix cannot evaluate (exec, tagged, ...)
// becomes neverHost and is noted in Skipped: a system file's "Match exec"
// then does not fail every host.
func (c *Config) matchable(path string, data []byte) ([]byte, []matchRule, error) {
	var rules []matchRule
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		code, _, _ := strings.Cut(line, "#")
		args := matchArgs(code)
		if len(args) == 0 || !strings.EqualFold(args[0], "match") {
			continue
		}
		rule, ok, err := parseMatch(args[1:])
		switch {
		case err != nil:
			return nil, nil, fmt.Errorf("ssh_config %s:%d: Match: %w", path, i+1, err)
		case ok:
			lines[i] = ruleHost(len(rules))
			rules = append(rules, rule)
		default:
			lines[i] = neverHost
			c.skipped = append(c.skipped, fmt.Sprintf("%s:%d: %s", path, i+1, strings.TrimSpace(line)))
		}
	}
	return []byte(strings.Join(lines, "\n")), rules, nil
}

// Skipped lists the Match blocks left out because fleetfix cannot
// evaluate them, as "file:line: Match ...": what they set does not apply.
func (c *Config) Skipped() []string {
	if c == nil {
		return nil
	}
	return c.skipped
}

// includeDirectives returns the file patterns of an Include line; the
// parser keeps them unexported but prints them back.
func includeDirectives(inc *sshconfig.Include) []string {
	s := strings.TrimSpace(inc.String())
	if inc.Comment != "" {
		s = strings.TrimSpace(strings.TrimSuffix(s, "#"+inc.Comment))
	}
	s = strings.TrimSpace(s[len("include"):])
	s = strings.TrimSpace(strings.TrimPrefix(s, "="))
	return strings.Fields(s)
}

// includePath is where ssh(1) looks for an Include pattern: relative ones
// under ~/.ssh for the user's files and under /etc/ssh for the system's.
func (c *Config) includePath(pattern string, system bool) string {
	switch {
	case strings.HasPrefix(pattern, "~"):
		return expandTilde(pattern, c.home)
	case filepath.IsAbs(pattern):
		return pattern
	case system:
		return filepath.Join("/etc/ssh", pattern)
	default:
		return filepath.Join(c.home, ".ssh", pattern)
	}
}

// Setting is one keyword's value as a config file writes it (quotes
// removed, %-tokens not expanded), and where.
type Setting struct {
	Value string
	File  string
	Line  int
}

// From is "file:line", for telling the operator where a value came from.
func (s Setting) From() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// Host is what the configuration says about one alias.
type Host struct {
	Alias    string
	settings map[string][]Setting
}

// Get returns the value of keyword (lower case, e.g. HostName) that ssh(1)
// would use, and whether the configuration sets it at all.
func (h Host) Get(keyword string) (Setting, bool) {
	s := h.settings[keyword]
	if len(s) == 0 {
		return Setting{}, false
	}
	return s[0], true
}

// All returns every value of a keyword that accumulates (IdentityFile,
// CertificateFile), in the order ssh(1) uses them.
func (h Host) All(keyword string) []Setting {
	return h.settings[keyword]
}

// Tokens returns the %-tokens of a connection to host (the HostName, after
// alias was looked up) as user on port, with the local user and home.
func (c *Config) Tokens(host, alias, user string, port int) Tokens {
	t := Tokens{'h': host, 'n': alias, 'r': user, 'p': strconv.Itoa(port)}
	if c != nil {
		t['u'], t['d'] = c.localUser, c.home
	}
	return t
}

func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// Lookup returns the settings for alias, the host name as given to ssh(1):
// each Host line is matched against alias and each Match line evaluated
// against the HostName and User obtained before it (see Skipped for the
// Match blocks left out).
func (c *Config) Lookup(alias string) (Host, error) { return c.LookupAs(alias, "", "") }

// LookupAs is Lookup for a connection whose user is given, as ssh -l gives
// it: a Match user line is evaluated against user, else the User the
// config gave before it, else fallback, the user the connection takes
// when nothing names one ("": the local user, as ssh).
func (c *Config) LookupAs(alias, user, fallback string) (Host, error) {
	h := Host{Alias: alias, settings: map[string][]Setting{}}
	if c == nil {
		return h, nil
	}
	if c.err != nil {
		return h, c.err
	}
	l := &lookup{alias: alias, user: user, fallback: cmp.Or(fallback, c.localUser), localUser: c.localUser, into: h.settings}
	for _, f := range c.files {
		if err := f.collect(l); err != nil {
			return h, err
		}
	}
	return h, nil
}

// lookup is one Lookup's alias, its given user ("": none) and the one it
// falls back to, and the settings obtained so far.
type lookup struct {
	alias, user, fallback, localUser string
	into                             map[string][]Setting
}

// target is what a Match line read now is evaluated against: ssh(1)
// evaluates each as it reads it, so a HostName or User set further down
// does not count, and the first value obtained is the one that stays.
func (l *lookup) target() (target, error) {
	t := target{host: l.alias, originalHost: l.alias, user: l.fallback, localUser: l.localUser}
	if s := l.into[HostName]; len(s) > 0 {
		h, err := Expand(s[0].Value, Tokens{'h': l.alias, 'n': l.alias})
		if err != nil {
			return t, fmt.Errorf("ssh_config %s: HostName %q: %w", s[0].From(), s[0].Value, err)
		}
		t.host = h
	}
	switch s := l.into[User]; {
	case l.user != "":
		t.user = l.user
	case len(s) > 0:
		t.user = s[0].Value
	}
	return t, nil
}

// applies tells whether a Host or Match block applies to the lookup.
func (f *file) applies(host *sshconfig.Host, l *lookup) (bool, error) {
	rule, ok := f.rule(host)
	if !ok {
		// As ssh(1): the alias lowercased, the patterns as written, "?"
		// exactly one character (the parser's own Matches takes it for
		// zero or one, and compares case-sensitively).
		pats := make([]string, len(host.Patterns))
		for i, p := range host.Patterns {
			pats[i] = p.String()
		}
		return matchPatterns(strings.ToLower(l.alias), pats), nil
	}
	t, err := l.target()
	if err != nil {
		return false, err
	}
	return rule.matches(t), nil
}

func (f *file) collect(l *lookup) error {
	for _, host := range f.cfg.Hosts {
		ok, err := f.applies(host, l)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		for _, n := range host.Nodes {
			switch n := n.(type) {
			case *sshconfig.KV:
				key := strings.ToLower(n.Key)
				if !honoured(key) || (len(l.into[key]) > 0 && !multi(key)) {
					continue
				}
				l.into[key] = append(l.into[key], Setting{Value: n.Value, File: f.path, Line: n.Pos().Line})
			case *sshconfig.Include:
				for _, sub := range f.includes[n] {
					if err := sub.collect(l); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// expandTilde expands a leading ~ or ~/ to home.
func expandTilde(p, home string) string {
	if p == "~" {
		return home
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(home, rest)
	}
	return p
}
