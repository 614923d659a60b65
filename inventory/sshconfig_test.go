package inventory

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/sshcfg"
)

const sshDir = "testdata/sshconfig"

func loadSSH(t *testing.T) (*Inventory, *sshcfg.Config, string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	inv := mustLoad(t, filepath.Join(sshDir, "inventory.yaml"))
	sc, err := sshcfg.Load(sshcfg.Paths{User: filepath.Join(sshDir, "ssh_config"), Home: home})
	if err != nil {
		t.Fatal(err)
	}
	return inv, sc, home
}

// TestResolveSSH: each setting comes from the highest layer that sets it:
// the host, the defaults, ssh_config, fleetfix's built-in default.
func TestResolveSSH(t *testing.T) {
	inv, sc, home := loadSSH(t)
	cfg := filepath.Join(sshDir, "ssh_config")
	at := func(line int) string { return "ssh_config " + cfg + ":" + itoa(line) }
	tests := []struct {
		host  string
		check func(rc ResolvedConn) string // the fields under test, printed
		want  string
		from  map[string]string
	}{
		{"web1", func(rc ResolvedConn) string {
			return strings.Join([]string{rc.Alias, rc.Address, rc.User, itoa(rc.Port), strings.Join(rc.IdentityFiles, ","), rc.ConnectTimeout.String()}, " ")
		}, "web1-alias 127.0.0.1 alice 2201 " + home + "/.ssh/id_alice 3s",
			map[string]string{"address": at(2), "user": at(3), "port": FromHost, "identity_files": at(5), "known_hosts": FromBuiltin}},
		{"web2", func(rc ResolvedConn) string {
			return rc.User + " " + itoa(rc.Port) + " " + strings.Join(rc.IdentityFiles, ",")
		},
			"bob 2300 " + home + "/.ssh/id_bob", // %r is the user the host connects as
			map[string]string{"user": FromHost, "port": FromHost}},
		{"plain", func(rc ResolvedConn) string { return rc.Address + " " + rc.User + " " + itoa(rc.Port) },
			"10.0.0.5 fallback 2022", map[string]string{"address": FromHost, "user": at(23), "port": FromDefaults}},
		{"hop", chainOf,
			"hop(via-config)@fallback:2022 -> inner@ops:2200 -> gw(192.0.2.9)@jump:2022", map[string]string{"proxy": at(11)}},
		{"tun", func(rc ResolvedConn) string {
			return strings.Join(rc.ProxyCommand, "|") + " " + strings.Join(rc.KnownHosts, ",") + " " +
				strings.Join(rc.CertificateFiles, ",") + " " + rc.AgentSocket + " " + rc.KeepAlive.String() + " " +
				boolStr(rc.StrictHostKeys, "strict") + boolStr(rc.HashKnownHosts, "hash") + boolStr(rc.IdentitiesOnly, "only")
		}, "ssh|-W|tunnel:2022|-l|fallback|gw " + home + "/.ssh/kh_tunnel,/tmp/kh2,/etc/ssh/ssh_known_hosts " +
			home + "/.ssh/c-cert.pub " + home + "/agent.sock 20s strict hash only ",
			map[string]string{"proxy": at(13), "known_hosts": at(16), "global_known_hosts": at(17), "strict_host_key_checking": at(14)}},
		{"direct", func(rc ResolvedConn) string { return strings.Join(rc.ProxyCommand, " ") + chainOf(rc) },
			"direct(tunnel)@fallback:2301", map[string]string{"proxy": FromHost}},
		{"cmd", func(rc ResolvedConn) string { return strings.Join(rc.ProxyCommand, " ") },
			"nc -q0 10.0.0.6 2022", map[string]string{"proxy": FromHost}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			h, _ := inv.host(tt.host)
			rc, err := inv.Explain(h, sc)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "resolved", tt.check(rc), tt.want)
			for field, want := range tt.from {
				equal(t, field+" from", rc.Origin[field], want)
			}
		})
	}
}

func chainOf(rc ResolvedConn) string {
	var hops []string
	for r := &rc; r != nil; r = r.Jump {
		name := r.Name
		if r.Address != r.Name {
			name += "(" + r.Address + ")"
		}
		hops = append(hops, name+"@"+r.User+":"+itoa(r.Port))
	}
	return strings.Join(hops, " -> ")
}

func boolStr(b bool, s string) string {
	if b {
		return s + " "
	}
	return ""
}

var itoa = strconv.Itoa

var errTest = errors.New("test")

// TestResolveSSHOff: ssh_config: false, or no config, resolves exactly as
// Resolve does.
func TestResolveSSHOff(t *testing.T) {
	inv, sc, _ := loadSSH(t)
	inv.SSHConfig = false
	for _, h := range inv.Hosts {
		rc, err := inv.ResolveSSH(h, sc)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, h.Name, rc, inv.Resolve(h))
		if rc.Address != h.Address {
			t.Errorf("%s: address %s with ssh_config off", h.Name, rc.Address)
		}
	}
}

// TestResolveSSHErrors: a value ssh_config gives that cannot be used names
// its line; a broken config fails every host with its reason.
func TestResolveSSHErrors(t *testing.T) {
	inv, _, home := loadSSH(t)
	bad := filepath.Join(home, "config")
	mustWrite(t, bad, "Host *\n  ConnectTimeout soon\n")
	sc, err := sshcfg.Load(sshcfg.Paths{User: bad, Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inv.ResolveSSH(inv.Hosts[2], sc); err == nil || !strings.Contains(err.Error(), bad+":2") {
		t.Errorf("bad ConnectTimeout: err %v, want it to name %s:2", err, bad)
	}
	if _, err := inv.ResolveSSH(inv.Hosts[0], sshcfg.Failed(errTest)); err != errTest {
		t.Errorf("failed config: err %v, want %v", err, errTest)
	}
}

// TestHandshakeKeys: max_startups and connect_retries are connection keys
// like the others, with defaults 8 and 2; connect_retries: 0 means none.
func TestHandshakeKeys(t *testing.T) {
	inv, err := Parse("inv.yaml", []byte(`defaults:
  connect_retries: 0
bastions:
  - name: gw
    address: 192.0.2.1
    max_startups: 3
hosts:
  - name: a
    address: 10.0.0.1
    proxy_jump: gw
  - name: b
    address: 10.0.0.2
    connect_retries: 5
services:
  - unit: demo.service
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := inv.Resolve(inv.Hosts[0]), inv.Resolve(inv.Hosts[1])
	equal(t, "a", [2]int{a.MaxStartups, a.ConnectRetries}, [2]int{8, 0})
	equal(t, "gw", [2]int{a.Jump.MaxStartups, a.Jump.ConnectRetries}, [2]int{3, 0})
	equal(t, "b", [2]int{b.MaxStartups, b.ConnectRetries}, [2]int{8, 5})

	_, err = Parse("inv.yaml", []byte("defaults:\n  max_startups: 0\n  connect_retries: -1\nhosts:\n  - name: a\n    address: 10.0.0.1\nservices:\n  - unit: demo.service\n"))
	for _, want := range []string{"max_startups: must be at least 1", "connect_retries: -1 is out of range"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err %v, want %q", err, want)
		}
	}
}

// TestResolveChangedDefaults: a change to a loaded Inventory's Defaults
// takes effect, ssh_config or not.
func TestResolveChangedDefaults(t *testing.T) {
	inv, sc, _ := loadSSH(t)
	direct := *inv
	direct.Defaults.Port, direct.Defaults.ProxyCommand = 2400, "nc %h %p"
	plain, _ := inv.host("plain")
	for _, c := range []*sshcfg.Config{nil, sc} {
		rc, err := direct.ResolveSSH(plain, c)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "port", rc.Port, 2400)
		equal(t, "proxy", strings.Join(rc.ProxyCommand, " "), "nc 10.0.0.5 2400")
	}
}

// TestMatchUserSeesTheInventorysUser: the inventory's user is ssh -l's, so
// a Match user block applies by it, not by ssh_config's User.
func TestMatchUserSeesTheInventorysUser(t *testing.T) {
	inv, sc, _ := loadSSH(t)
	for host, want := range map[string]bool{"web2": true, "web1": false} {
		h, _ := inv.host(host)
		rc, err := inv.ResolveSSH(h, sc)
		if err != nil {
			t.Fatal(err)
		}
		if got := rc.KeepAlive == 7*time.Second; got != want {
			t.Errorf("%s (user %s): keepalive %s, want the Match user bob block: %v", host, rc.User, rc.KeepAlive, want)
		}
	}
}
