package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/inventory"
)

// TestInventoryImport: the binary writes the inventory, warns on stderr of
// what it leaves out, and keeps an existing file.
func TestInventoryImport(t *testing.T) {
	src := filepath.Join("..", "..", "ansible", "testdata", "ini", "hosts")
	out := filepath.Join(t.TempDir(), "inventory.yaml")
	stdout, stderr, code := fleetfix(t, nil, "inventory", "import", "--ansible", src, "-o", out)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "warning: variable ntp_server (") || !strings.Contains(stderr, `warning: localhost: ansible_connection "local" not carried over`) {
		t.Errorf("warnings:\n%s", stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Parse(out, append(b, "services: [{unit: smart-proxy}]\n"...))
	if err != nil {
		t.Fatalf("written inventory does not load: %v", err)
	}
	if inv.Hosts[0].Name != "mail.example.com" || len(inv.Groups["webservers"]) != 2+25 {
		t.Errorf("hosts %v, webservers %v", inv.Hosts[0].Name, inv.Groups["webservers"])
	}
	if _, stderr, code := fleetfix(t, nil, "inventory", "import", src, "-o", out); code != exitUsage || !strings.Contains(stderr, "exists; give --force") {
		t.Errorf("overwrite: exit %d %s", code, stderr)
	}
	stdout, _, code = fleetfix(t, nil, "inventory", "import", src)
	if code != 0 || stdout != string(b) {
		t.Errorf("stdout differs from -o: exit %d", code)
	}
	bad := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(bad, []byte("h1 ansible_become=yes ansible_become_user=postgres\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := fleetfix(t, nil, "inventory", "import", bad); code != exitUsage || !strings.Contains(stderr, "root only") {
		t.Errorf("become_user postgres: exit %d %s", code, stderr)
	}
}

// TestHostsFrom: --hosts-from takes the hosts from an Ansible inventory, or
// from a fleetfix one, and the rest from the inventory, whose own lines
// keep their numbers.
func TestHostsFrom(t *testing.T) {
	dir := t.TempDir()
	ans := filepath.Join(dir, "hosts")
	if err := os.WriteFile(ans, []byte("[web]\nweb[1:2] ansible_user=deploy\n[db]\ndb1 ansible_host=192.0.2.9 ansible_ssh_common_args='-J jump.example.com'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	invText := `defaults:
  known_hosts: [/etc/fleetfix/known_hosts]
hosts:
  - name: old1
    address: 192.0.2.1
groups:
  old: [old1]
services:
  - unit: smart-proxy.service
    dropin:
      settings:
        TimeoutStopSec: 20s
`
	path := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(path, []byte(invText), 0o644); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	inv, err := loadInventory(path, "ansible:"+ans, &warn)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range inv.Hosts {
		names = append(names, h.Name)
	}
	if !slices.Equal(names, []string{"web1", "web2", "db1"}) || len(inv.Bastions) != 1 || inv.Bastions[0].Name != "jump.example.com" {
		t.Errorf("hosts %v, bastions %+v", names, inv.Bastions)
	}
	if c := inv.Resolve(inv.Hosts[0]); c.User != "deploy" || c.KnownHosts[0] != "/etc/fleetfix/known_hosts" {
		t.Errorf("web1 connects as %+v", c)
	}
	if c := inv.Resolve(inv.Hosts[2]); c.Address != "192.0.2.9" || c.Jump == nil || c.Jump.Address != "jump.example.com" {
		t.Errorf("db1 connects as %+v", c)
	}
	if len(inv.Services) != 1 || inv.Groups["web"] == nil || inv.Groups["old"] != nil {
		t.Errorf("services %v, groups %v", inv.Services, inv.Groups)
	}
	// A mistake in the inventory's own part names its own line.
	if err := os.WriteFile(path, []byte(strings.Replace(invText, "20s", "twenty", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadInventory(path, "ansible:"+ans, &warn); err == nil || !strings.Contains(err.Error(), "inventory.yaml:12:") {
		t.Errorf("error %v, want it at inventory.yaml:12", err)
	}
	// From a fleetfix inventory: its defaults and hosts, the services of
	// a file that has only those.
	fix := filepath.Join(dir, "fix.yaml")
	if err := os.WriteFile(fix, []byte("# services only\nservices:\n  - unit: rule-proxy.service\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(invText), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err = loadInventory(fix, path, &warn)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Hosts) != 1 || inv.Hosts[0].Name != "old1" || inv.Groups["old"] == nil || inv.Services[0].Unit != "rule-proxy.service" || inv.Defaults.KnownHosts[0] != "/etc/fleetfix/known_hosts" {
		t.Errorf("hosts %v, groups %v, services %v, defaults %+v", inv.Hosts, inv.Groups, inv.Services, inv.Defaults)
	}
}
