package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
)

func TestPasswordSource(t *testing.T) {
	inv, err := inventory.Parse(filepath.Join(t.TempDir(), "inv.yaml"), []byte(`hosts:
  - {name: h1, address: 192.0.2.1, user: ops, become: true, become_password: true}
  - {name: h2, address: 192.0.2.2}
services: [{unit: x}]
`))
	if err != nil {
		t.Fatal(err)
	}
	yes, no := func() bool { return true }, func() bool { return false }
	tests := []struct {
		name     string
		targets  []inventory.Target
		file     string
		terminal func() bool
		wantErr  string
	}{
		{"no terminal, no file", inv.Hosts, "", no, "h1: become_password is true but there is no terminal to ask for the sudo password on; give --become-password-file FILE"},
		{"a terminal", inv.Hosts, "", yes, ""},
		{"a file", inv.Hosts, "pw", no, ""},
		{"no host needs it", inv.Hosts[1:], "", no, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := passwordSource(inv, tt.targets, tt.file, tt.terminal)
			if (err == nil) != (tt.wantErr == "") || err != nil && err.Error() != tt.wantErr {
				t.Errorf("passwordSource = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestNoPasswordSourceIsUsage runs the binary without a controlling terminal
// (a session of its own): a host needing the sudo password and no
// --become-password-file is a usage error, before any host is dialed (the
// address is TEST-NET: a dial would hang until its timeout).
func TestNoPasswordSourceIsUsage(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv.yaml")
	if err := os.WriteFile(inv, []byte("defaults: {connect_timeout: 30s}\nhosts:\n  - {name: h1, address: 192.0.2.1, user: ops, become: true, become_password: true}\nservices: [{unit: x}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"plan", inv}, {"rollout", inv, "--output", "json"}, {"rollback", "--all", "-i", inv}} {
		cmd := exec.Command(binary, append(args, "--state-dir", dir)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		start := time.Now()
		err := cmd.Run()
		ee, _ := err.(*exec.ExitError)
		if ee == nil || ee.ExitCode() != exitUsage || !strings.Contains(e.String(), "give --become-password-file FILE") {
			t.Errorf("%v: %v, stderr %q, stdout %q; want exit %d naming --become-password-file", args, err, e.String(), o.String(), exitUsage)
		}
		if d := time.Since(start); d > 10*time.Second || strings.Contains(o.String(), "connect") {
			t.Errorf("%v: took %s, output %q: a host was dialed", args, d, o.String())
		}
	}
}
