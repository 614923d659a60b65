package sshcfg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func testConfig(t *testing.T) *Config {
	t.Helper()
	home, err := filepath.Abs("testdata/home")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(Paths{User: "~/.ssh/config", System: "testdata/ssh_config", Home: home})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rel shortens a Setting's origin to testdata-relative file:line.
func rel(t *testing.T, s Setting) string {
	t.Helper()
	abs, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.TrimPrefix(strings.TrimPrefix(s.File, abs+"/"), "testdata/")
	return f + ":" + strconv.Itoa(s.Line)
}

var errBroken = errors.New("broken")

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLookup(t *testing.T) {
	c := testConfig(t)
	tests := []struct {
		alias, keyword string
		want, from     string // from "": not set
	}{
		// A Host block's own values; the first value obtained wins, so
		// "Host web*" further down does not change the user.
		{"web1-alias", HostName, "127.0.0.1", "home/.ssh/config:5"},
		{"web1-alias", User, "alice", "home/.ssh/config:6"},
		{"web1-alias", Port, "2201", "home/.ssh/config:7"},
		{"web1-alias", ConnectTimeout, "7", "home/.ssh/config:17"},
		// Host * at the end, and the system file after the user's.
		{"web1-alias", ServerAliveInterval, "30", "home/.ssh/config:24"},
		{"web1-alias", HashKnownHosts, "yes", "ssh_config:3"},
		{"web1-alias", GlobalKnownHostsFile, "/etc/ssh/ssh_known_hosts", "ssh_config:5"},
		// Patterns: a wildcard, and a negated one that excludes a host.
		{"app.internal", ProxyJump, "jump@bastion.example:2222", "home/.ssh/config:13"},
		{"app.internal", User, "ops", "home/.ssh/config:12"},
		{"secret.internal", ProxyJump, "", ""},
		{"secret.internal", User, "systemuser", "ssh_config:4"},
		// Include: config.d/*.conf, relative to ~/.ssh, read where the
		// Include line is.
		{"db7", HostName, "%h.db.example", "home/.ssh/config.d/10-db.conf:2"},
		{"db7", IdentityAgent, "none", "home/.ssh/config.d/10-db.conf:4"},
		{"tunnel", ProxyCommand, `nc -X connect -x "proxy host:3128" %h %p`, "home/.ssh/config:21"},
		// Unknown to every block: only Host * values.
		{"other", HostName, "", ""},
		{"other", StrictHostKeyChecking, "accept-new", "home/.ssh/config:25"},
	}
	for _, tt := range tests {
		t.Run(tt.alias+"/"+tt.keyword, func(t *testing.T) {
			h, err := c.Lookup(tt.alias)
			if err != nil {
				t.Fatal(err)
			}
			s, ok := h.Get(tt.keyword)
			if tt.from == "" {
				if ok {
					t.Fatalf("%s set to %q at %s, want unset", tt.keyword, s.Value, s.From())
				}
				return
			}
			if !ok || s.Value != tt.want || rel(t, s) != tt.from {
				t.Errorf("%s = %q from %s (set %v), want %q from %s", tt.keyword, s.Value, rel(t, s), ok, tt.want, tt.from)
			}
		})
	}
}

// TestLookupAll: IdentityFile accumulates over every matching block, in
// file order.
func TestLookupAll(t *testing.T) {
	h, err := testConfig(t).Lookup("web1-alias")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range h.All(IdentityFile) {
		got = append(got, s.Value+"@"+rel(t, s))
	}
	want := []string{"~/.ssh/id_web@home/.ssh/config:8", "~/.ssh/id_%r@%h@home/.ssh/config:9", "~/.ssh/id_shared@home/.ssh/config:18"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("IdentityFile = %v, want %v", got, want)
	}
}

// TestMatch: Match host and Match all apply, final and canonical are
// dropped (fleetfix's one pass is the final one), and a block with any
// other criterion is skipped and listed, not an error.
func TestMatch(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "config")
	writeFile(t, conf, "Match exec \"true\"\n  User x\nMatch final all\n  User y\nMatch host a,b # a comment\n  Port 7\nMatch canonical host c\n  Port 8\n")
	c, err := Load(Paths{User: conf, Home: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ alias, keyword, want, from string }{
		{"other", User, "y", conf + ":4"},
		{"b", Port, "7", conf + ":6"},
		{"c", Port, "8", conf + ":8"},
		{"other", Port, "", ""},
	} {
		h, err := c.Lookup(tt.alias)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := h.Get(tt.keyword)
		if s.Value != tt.want || (tt.from != "" && s.From() != tt.from) {
			t.Errorf("%s %s = %q from %s, want %q from %s", tt.alias, tt.keyword, s.Value, s.From(), tt.want, tt.from)
		}
	}
	if got := c.Skipped(); len(got) != 1 || got[0] != conf+`:1: Match exec "true"` {
		t.Errorf("Skipped = %q, want the Match exec line", got)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	missing, err := Load(Paths{User: filepath.Join(dir, "none"), System: filepath.Join(dir, "none2"), Home: dir})
	if err != nil {
		t.Fatalf("missing files: %v, want an empty config", err)
	}
	if h, _ := missing.Lookup("x"); len(h.settings) != 0 {
		t.Errorf("missing files give settings %v", h.settings)
	}
	loop := filepath.Join(dir, "loop")
	writeFile(t, loop, "Include "+loop+"\n")
	if _, err := Load(Paths{User: loop, Home: dir}); err == nil {
		t.Error("an Include loop loaded")
	}
	if _, err := Failed(errBroken).Lookup("x"); err != errBroken {
		t.Errorf("Failed config: Lookup err %v, want %v", err, errBroken)
	}
}

// matchConfig is the config of TestMatchCriteria, by line number.
const matchConfig = `Match host 10.0.0.*
  Port 1
Host web1 web2 db7
  User alice
Host web1
  HostName 10.0.0.5
Host db*
  HostName %h.db.example
Match host 10.0.0.*
  IdentityAgent host
  User never-used
Match host web*
  CertificateFile alias
Match originalhost web*
  ConnectTimeout 11
Match host *.DB.example
  ConnectTimeout 12
Match host 10.0.0.* user alice
  ServerAliveInterval 21
Match user bob,!alice
  ServerAliveInterval 22
Match user me
  ServerAliveInterval 23
Match localuser m? !host 10.*
  ProxyJump localuser
Match localuser *,!me
  ProxyJump never
Match host 10.0.0.*,!10.0.0.5
  StrictHostKeyChecking no
Match exec "true" host 10.0.0.*
  HashKnownHosts no
Match canonical originalhost solo
  HostName 192.168.1.1
Match host 192.168.*
  UserKnownHostsFile /dev/null
`

// loadMatchConfig loads matchConfig as the local user "me", and returns it
// with its path.
func loadMatchConfig(t *testing.T) (*Config, string) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "config")
	writeFile(t, conf, matchConfig)
	c, err := Load(Paths{User: conf, Home: dir})
	if err != nil {
		t.Fatal(err)
	}
	c.localUser = "me"
	return c, conf
}

// checkSetFrom checks that h's keyword comes from line of conf (0: that it
// is not set); what names the lookup in a failure.
func checkSetFrom(t *testing.T, what string, h Host, keyword, conf string, line int) {
	t.Helper()
	s, ok := h.Get(keyword)
	switch {
	case line == 0 && ok:
		t.Errorf("%s %s = %q from %s, want unset", what, keyword, s.Value, s.From())
	case line != 0 && s.From() != conf+":"+strconv.Itoa(line):
		t.Errorf("%s %s = %q from %s (set %v), want line %d", what, keyword, s.Value, s.From(), ok, line)
	}
}

// TestMatchCriteria: each criterion fleetfix evaluates, against the
// values the lines before the Match line give (as ssh(1) reads them):
// host is the HostName, originalhost the alias, user the User else the
// local user.
func TestMatchCriteria(t *testing.T) {
	c, conf := loadMatchConfig(t)
	tests := []struct {
		name, alias, keyword string
		line                 int // 0: not set
	}{
		// web1's HostName 10.0.0.5, set before, decides; its alias does not.
		{"host is the HostName", "web1", IdentityAgent, 10},
		{"host is not the alias", "web1", CertificateFile, 0},
		{"no HostName, host is the alias", "web2", CertificateFile, 13},
		{"web2's alias is not 10.0.0.*", "web2", IdentityAgent, 0},
		{"originalhost is the alias", "web1", ConnectTimeout, 15},
		{"host, %h expanded, case folded", "db7", ConnectTimeout, 17},
		// ssh evaluates line 1 before any HostName is obtained: the alias.
		{"HostName set further down does not count", "web1", Port, 0},
		{"no HostName: the alias", "10.0.0.9", Port, 2},
		// First value obtained wins: alice (line 4) over line 11's User,
		// and "Match user" sees alice.
		{"first User wins", "web1", User, 4},
		{"host and user, AND", "web1", ServerAliveInterval, 19},
		{"host fails, AND", "web2", ServerAliveInterval, 0},
		{"host holds, user fails, AND", "10.0.0.9", ServerAliveInterval, 0}, // User never-used, line 11
		{"no User: the local user", "other", ServerAliveInterval, 23},
		{"localuser and negated host", "other", ProxyJump, 25},
		{"negated host criterion fails", "10.1.1.1", ProxyJump, 0},
		{"negated pattern excludes", "web1", StrictHostKeyChecking, 0},
		{"negated pattern, other host", "10.0.0.6", StrictHostKeyChecking, 29},
		{"unevaluated criterion: skipped", "web1", HashKnownHosts, 0},
		// A HostName a Match block sets is what later Match lines see.
		{"canonical dropped; HostName from a Match block", "solo", UserKnownHostsFile, 35},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := c.Lookup(tt.alias)
			if err != nil {
				t.Fatal(err)
			}
			checkSetFrom(t, tt.alias, h, tt.keyword, conf, tt.line)
		})
	}
	if got := c.Skipped(); len(got) != 1 || got[0] != conf+`:30: Match exec "true" host 10.0.0.*` {
		t.Errorf("Skipped = %q, want the Match exec line", got)
	}
}

// TestMatchErrors: a Match line ssh(1) refuses fails the load, naming it;
// one with a criterion fleetfix does not evaluate is only skipped.
func TestMatchErrors(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "config")
	tests := []struct {
		config, err string // err "": loads, the block skipped
	}{
		{"Host x\nMatch host\n", conf + ":2: Match: host: no patterns"},
		{"Match\n", conf + ":1: Match: no criteria"},
		{"Match all host x\n", conf + `:1: Match: "all" cannot be combined with other criteria`},
		{"Match final canonical all\n", conf + `:1: Match: "all" cannot be combined with other criteria`},
		{"Match !final host x\n", ""},
		{"Match tagged t\n", ""},
		{"Match localnetwork 10.0.0.0/8 user x\n", ""},
	}
	for _, tt := range tests {
		writeFile(t, conf, tt.config)
		c, err := Load(Paths{User: conf, Home: dir})
		switch {
		case tt.err != "" && (err == nil || err.Error() != "ssh_config "+tt.err):
			t.Errorf("%q: err %v, want %q", tt.config, err, "ssh_config "+tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.config, err)
		case tt.err == "" && len(c.Skipped()) != 1:
			t.Errorf("%q: Skipped = %q, want the line", tt.config, c.Skipped())
		}
	}
	writeFile(t, conf, "Host x\n  HostName %z\nMatch host x\n  User y\n")
	c, err := Load(Paths{User: conf, Home: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup("x"); err == nil || !strings.HasPrefix(err.Error(), "ssh_config "+conf+":2: HostName") {
		t.Errorf("HostName %%z before a Match host: Lookup err %v, want one naming line 2", err)
	}
}

func TestMatchList(t *testing.T) {
	tests := []struct {
		s, list string
		fold    bool
		want    bool
	}{
		{"web1", "web?", false, true},
		{"web12", "web?", false, false},
		{"web", "web*", false, true},
		{"a.b.example", "*.example", false, true},
		{"example", "*.example", false, false},
		{"aXbXc", "a*b*c", false, true},
		{"abcab", "*ab", false, true},
		{"WEB1", "web1", true, true},
		{"WEB1", "web1", false, false},
		{"web1", "db*,web*", false, true},
		{"web1", "web*,!web1", false, false},
		{"web2", "web*,!web1", false, true},
		{"web1", "!web2", false, false}, // a negated entry alone matches nothing
		{"", "*", false, true},
	}
	for _, tt := range tests {
		if got := matchList(tt.s, tt.list, tt.fold); got != tt.want {
			t.Errorf("matchList(%q, %q, %v) = %v, want %v", tt.s, tt.list, tt.fold, got, tt.want)
		}
	}
}

// TestLookupAs: a given user (ssh -l's) is what Match user sees, over the
// config's User; with none, the fallback stands in for the local user.
func TestLookupAs(t *testing.T) {
	c, conf := loadMatchConfig(t)
	tests := []struct {
		alias, user, fallback string
		line                  int // of the ServerAliveInterval that applies; 0: none
	}{
		{"other", "bob", "", 21},
		{"web1", "bob", "", 21}, // not line 19's "user alice", the config's User
		{"other", "", "", 23},   // the local user, me
		{"other", "", "root", 0},
		{"web1", "", "root", 19}, // the config's alice comes before the fallback
	}
	for _, tt := range tests {
		h, err := c.LookupAs(tt.alias, tt.user, tt.fallback)
		if err != nil {
			t.Fatal(err)
		}
		checkSetFrom(t, fmt.Sprintf("LookupAs(%q, %q, %q)", tt.alias, tt.user, tt.fallback), h, ServerAliveInterval, conf, tt.line)
	}
}

// TestHostPatterns: Host lines match as ssh(1)'s do: "?" is exactly one
// character, the alias is compared lowercased, a negated pattern that
// matches rules the line out.
func TestHostPatterns(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "config")
	writeFile(t, conf, "Host web? !web9\n  Port 1\nHost db*\n  Port 2\nHost DB-UPPER\n  Port 3\n")
	c, err := Load(Paths{User: conf, Home: dir})
	if err != nil {
		t.Fatal(err)
	}
	for alias, want := range map[string]string{
		"web1": "1", "web": "", "web10": "", "web9": "", "WEB2": "1",
		"db": "2", "DB7": "2", "db-upper": "2", "other": "",
	} {
		h, err := c.Lookup(alias)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := h.Get(Port); s.Value != want {
			t.Errorf("%s: Port %q, want %q", alias, s.Value, want)
		}
	}
}
