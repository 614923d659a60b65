package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// badInventory writes an inventory that fails to load with an error naming
// its file: which inventory a command took shows in its stderr, and nothing
// is dialed.
func badInventory(t *testing.T, path string) string {
	t.Helper()
	writeFile(t, path, []byte("no_such_key: 1\n"), 0o644)
	return path
}

// Every command takes its inventory the same ways, in this order: a
// positional argument or -i (not both), $FLEETFIX_INVENTORY,
// ./inventory.yaml; none at all is a usage error.
func TestInventoryGivenAlikeToEveryCommand(t *testing.T) {
	dir := t.TempDir()
	pos, flag, env := badInventory(t, filepath.Join(dir, "pos.yaml")), badInventory(t, filepath.Join(dir, "flag.yml")), badInventory(t, filepath.Join(dir, "env.yaml"))
	file := badInventory(t, filepath.Join(dir, "inventory-file")) // no .yaml: an existing file
	withDefault, empty := t.TempDir(), t.TempDir()
	badInventory(t, filepath.Join(withDefault, "inventory.yaml"))
	setEnv, noEnv := []string{envInventory + "=" + env}, []string{envInventory + "="}

	// Each command, and what it needs after its inventory.
	commands := [][]string{{"rollout"}, {"plan"}, {"scan"}, {"rollback", "--all"}, {"rollback", "h1"},
		{"prune", "--all"}, {"prune", "h1"}, {"reboot", "--all"}, {"reboot", "h1"}, {"unlock", "h1"}}
	ways := []struct {
		name string
		dir  string
		env  []string
		args func(cmd string, rest []string) []string
		want string
	}{
		{"positional", withDefault, setEnv, func(c string, r []string) []string { return append([]string{c, pos}, r...) }, "pos.yaml:1:"},
		{"-i", withDefault, setEnv, func(c string, r []string) []string { return append([]string{c, "-i", flag}, r...) }, "flag.yml:1:"},
		{"--inventory", withDefault, setEnv, func(c string, r []string) []string { return append([]string{c}, append(r, "--inventory="+flag)...) }, "flag.yml:1:"},
		{"existing file", withDefault, setEnv, func(c string, r []string) []string { return append([]string{c, file}, r...) }, "inventory-file:1:"},
		{"env", withDefault, setEnv, func(c string, r []string) []string { return append([]string{c}, r...) }, "env.yaml:1:"},
		{"default file", withDefault, noEnv, func(c string, r []string) []string { return append([]string{c}, r...) }, "inventory.yaml:1:"},
		{"none", empty, noEnv, func(c string, r []string) []string { return append([]string{c}, r...) }, "no inventory: give INVENTORY or -i FILE"},
		{"twice", withDefault, noEnv, func(c string, r []string) []string { return append([]string{c, pos, "-i", flag}, r...) }, "inventory given twice"},
	}
	for _, w := range ways {
		for _, c := range commands {
			args := w.args(c[0], c[1:])
			_, stderr, code := fleetfixIn(t, w.dir, w.env, args...)
			if code != exitUsage || !strings.Contains(stderr, w.want) {
				t.Errorf("%s: fleetfix %q: exit %d, stderr %q; want exit %d mentioning %q", w.name, args, code, stderr, exitUsage, w.want)
			}
		}
	}
}

// "rollback HOST" and "reboot HOST" work as they did: a first argument
// that is neither a .yaml/.yml name nor (without -i) an existing file is a
// host.
func TestHostArgsAfterTheInventory(t *testing.T) {
	inv := tinyInventory(t, "127.0.0.1", 1) // nothing listens on port 1: refused at once
	dir := filepath.Dir(inv)
	writeFile(t, filepath.Join(dir, "web1"), nil, 0o644) // a file named as the host
	state := "XDG_STATE_HOME=" + t.TempDir()
	env := []string{envInventory + "=" + inv, state}
	tests := []struct {
		dir  string
		env  []string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"", env, []string{"rollback", "nosuch"}, exitUsage, `no host or group named "nosuch"`},
		{"", env, []string{"reboot", "nosuch"}, exitUsage, `no host or group named "nosuch"`},
		{"", env, []string{"rollback", "web1"}, exitFailedHosts, "connect"},
		{"", env, []string{"prune", "web1"}, exitFailedHosts, "connect"},
		{"", env, []string{"unlock", "web1"}, exitFailedHosts, "web1: "},
		{"", env, []string{"rollback", inv}, exitUsage, "name the hosts to roll back, or --all"},
		{"", env, []string{"reboot", inv}, exitUsage, "name the hosts to reboot"},
		{"", env, []string{"rollback", inv, "nosuch"}, exitUsage, `no host or group named "nosuch"`},
		{"", env, []string{"rollback", "-i", inv, "other.yml"}, exitUsage, "inventory given twice"},
		// In the inventory's directory, web1 names a file: without -i it is
		// the inventory, with -i a host.
		{dir, []string{state}, []string{"rollback", "web1"}, exitUsage, "name the hosts to roll back"},
		{dir, []string{state}, []string{"rollback", "-i", inv, "web1"}, exitFailedHosts, "connect"},
	}
	for _, tt := range tests {
		stdout, stderr, code := fleetfixIn(t, tt.dir, tt.env, tt.args...)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
			t.Errorf("fleetfix %q in %q: exit %d\n%s%s\nwant exit %d mentioning %q", tt.args, tt.dir, code, stdout, stderr, tt.code, tt.want)
		}
	}
}

// Shell completion offers the inventory's host and group names, through
// cobra's __complete as the shells call it.
func TestCompletionOfHostsAndGroups(t *testing.T) {
	inv := tinyInventory(t, "127.0.0.1", 1)
	b, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	more := strings.Replace(string(b), "services:", "  - name: web2\n    address: 127.0.0.1\ngroups:\n  web: [web1, web2]\nservices:", 1)
	writeFile(t, inv, []byte(more), 0o644)
	env := []string{envInventory + "=" + inv}
	names := []string{"web1", "web2", "web"}
	tests := []struct {
		env  []string
		args []string
		want []string // completions, then cobra's directive line
	}{
		{nil, []string{"rollback", "-i", inv, ""}, append(names, ":4")},
		{nil, []string{"rollback", inv, ""}, append(names, ":4")},
		{env, []string{"rollback", ""}, append(names, ":4")},
		{env, []string{"reboot", "web1", ""}, []string{"web2", "web", ":4"}},
		{env, []string{"prune", ""}, append(names, ":4")},
		{env, []string{"unlock", ""}, append(names, ":4")},
		{env, []string{"rollout", "--limit", ""}, append(names, ":4")},
		{nil, []string{"scan", inv, "--limit", ""}, append(names, ":4")},
		{env, []string{"rollback", "--limit", ""}, append(names, ":4")},
		{nil, []string{"rollout", ""}, []string{"yaml", "yml", ":8"}},
		{nil, []string{"rollout", inv, ""}, []string{":4"}},
		{[]string{envInventory + "=/nonexistent.yaml"}, []string{"rollback", ""}, []string{"yaml", "yml", ":8"}},
	}
	for _, tt := range tests {
		args := append([]string{"__complete"}, tt.args...)
		stdout, stderr, code := fleetfixIn(t, t.TempDir(), tt.env, args...)
		got := strings.Split(strings.TrimSpace(stdout), "\n")
		if code != 0 || !slices.Equal(got, tt.want) {
			t.Errorf("fleetfix %q: exit %d, completions %q, want %q\n%s", args, code, got, tt.want, stderr)
		}
	}
}
