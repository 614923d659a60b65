package inventory

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	inv := mustLoad(t, filepath.Join(goodDir, "full.yaml"))
	dir, err := filepath.Abs(goodDir)
	if err != nil {
		t.Fatal(err)
	}
	// Expected chains, built bottom up: core <- edge <- hosts.
	core := &ResolvedConn{
		Name: "core", Address: "192.0.2.1", User: "jump", Port: 2222,
		IdentityFiles:  []string{filepath.Join(home, ".ssh/id_ed25519"), filepath.Join(dir, "keys/fleet")},
		KnownHosts:     []string{filepath.Join(dir, "known_hosts")},
		Agent:          true,
		Become:         true,
		ConnectTimeout: 10 * time.Second, MaxStartups: 8, ConnectRetries: 2,
	}
	edge := &ResolvedConn{
		Name: "edge", Address: "192.0.2.2", User: "deploy", Port: 22,
		IdentityFiles: []string{}, // "identity_files: []" means none, not the defaults
		KnownHosts:    core.KnownHosts, Agent: true, Become: true,
		ConnectTimeout: 10 * time.Second, MaxStartups: 8, ConnectRetries: 2, Jump: core,
	}
	tests := []struct {
		name string
		want ResolvedConn
	}{
		{"web1", ResolvedConn{ // defaults only, default proxy_jump
			Name: "web1", Address: "10.0.0.11", User: "deploy", Port: 22,
			IdentityFiles: core.IdentityFiles, KnownHosts: core.KnownHosts,
			Agent: true, Become: true, ConnectTimeout: 10 * time.Second, MaxStartups: 8, ConnectRetries: 2, Jump: edge,
		}},
		{"web2", ResolvedConn{ // host overrides beat the defaults
			Name: "web2", Address: "10.0.0.12", User: "root", Port: 2200,
			IdentityFiles: core.IdentityFiles, KnownHosts: core.KnownHosts,
			Agent: false, Become: false, ConnectTimeout: 3 * time.Second, MaxStartups: 8, ConnectRetries: 2, Jump: edge,
		}},
		{"db1", ResolvedConn{ // proxy_jump: none, own known_hosts
			Name: "db1", Address: "db1.internal.example", User: "deploy", Port: 22,
			IdentityFiles: core.IdentityFiles, KnownHosts: []string{"/etc/ssh/ssh_known_hosts"},
			Agent: true, Become: true, ConnectTimeout: 10 * time.Second, MaxStartups: 8, ConnectRetries: 2,
		}},
		{"edge", *edge}, // a bastion resolves like a host, without the default proxy_jump
		{"core", *core},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := inv.host(tt.name)
			if !ok {
				h, ok = inv.bastion(tt.name)
			}
			if !ok {
				t.Fatalf("no host or bastion %q", tt.name)
			}
			equal(t, "Resolve", inv.Resolve(h), tt.want)
		})
	}
}

// TestResolveHostAsBastion: a proxy_jump naming a host reaches it as a
// target is reached, and the host the default names connects directly.
func TestResolveHostAsBastion(t *testing.T) {
	inv := mustLoad(t, filepath.Join(goodDir, "host_bastion.yaml"))
	chain := func(name string) string {
		h, ok := inv.host(name)
		if !ok {
			t.Fatalf("no host %q", name)
		}
		var hops []string
		for rc := inv.Resolve(h); ; rc = *rc.Jump {
			hops = append(hops, rc.Name+"@"+rc.User)
			if rc.Jump == nil {
				return strings.Join(hops, " -> ")
			}
		}
	}
	for name, want := range map[string]string{
		"gw1":  "gw1@deploy", // the default bastion does not jump through itself
		"web1": "web1@deploy -> gw1@deploy",
		"web2": "web2@deploy -> web1@deploy -> gw1@deploy",
		"db1":  "db1@deploy",
	} {
		equal(t, name, chain(name), want)
	}
	if _, err := inv.Select([]string{"gw1"}); err != nil {
		t.Errorf("a host serving as a bastion is still a target: %v", err)
	}
}

func TestResolveBuiltinDefaults(t *testing.T) {
	t.Setenv("HOME", "/home/op")
	// A hand-built Inventory gets the same defaults as a loaded one.
	inv := &Inventory{Path: "/etc/fleetfix/inventory.yaml", Hosts: []Target{{Name: "a", Address: "10.0.0.1"}}}
	equal(t, "Resolve", inv.Resolve(inv.Hosts[0]), ResolvedConn{
		Name: "a", Address: "10.0.0.1", User: "root", Port: 22,
		KnownHosts: []string{"/home/op/.ssh/known_hosts"}, Agent: true,
		ConnectTimeout: 10 * time.Second, MaxStartups: 8, ConnectRetries: 2,
	})
}

func TestSelect(t *testing.T) {
	inv := mustLoad(t, filepath.Join(goodDir, "full.yaml"))
	tests := []struct {
		limit   []string
		want    []string
		wantErr string
	}{
		{limit: nil, want: []string{"web1", "web2", "db1", "web3"}},
		{limit: []string{"web"}, want: []string{"web1", "web2", "web3"}},
		{limit: []string{"db1", "web1", "canary"}, want: []string{"web1", "db1"}},
		{limit: []string{"web2", " web2 ", "web"}, want: []string{"web1", "web2", "web3"}},
		{limit: []string{"web11"}, wantErr: `no host or group named "web11"; did you mean "web1"?`},
		{limit: []string{"web1", "nope"}, wantErr: `no host or group named "nope"`},
		{limit: []string{"core"}, wantErr: `"core" is a bastion, not a rollout target`},
		{limit: []string{"empty"}, wantErr: `empty selects no hosts`},
		{limit: []string{""}, wantErr: `empty host or group name`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.limit, ","), func(t *testing.T) {
			hosts, err := inv.Select(tt.limit)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Select(%q) error = %v, want %q", tt.limit, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, h := range hosts {
				names = append(names, h.Name)
			}
			equal(t, "Select", names, tt.want)
		})
	}
}
