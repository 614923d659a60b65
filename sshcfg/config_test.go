package sshcfg

import (
	"errors"
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
