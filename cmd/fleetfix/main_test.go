package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/internal/labtest"
	"golang.org/x/crypto/ssh"
)

var (
	binary string
	tl     *labtest.Lab
)

// The CLI is tested as users run it: the real binary, its output and exit
// codes, on a one-host lab whose demo service stops with a 3 s timeout: a
// trixie host (systemd 257) whose sshd is started by ssh.socket, as on
// Ubuntu 24.04, while the fleet package's lab is mostly ssh.service.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fleetfix-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "fleetfix")
	// The binary make build makes, as shipped: static, VCS-stamped.
	if out, err := exec.Command("make", "-s", "-C", filepath.Join("..", ".."), "build", "BIN="+binary).CombinedOutput(); err != nil {
		_, _ = os.Stderr.Write(out)
		os.Exit(1)
	}
	code := labtest.Main(m, labtest.Options{Name: "cli", Index: 3, Hosts: 1, StopTimeout: 3 * time.Second,
		Distro: "trixie", SSHSocket: true}, &tl)
	_ = os.RemoveAll(dir) // a temporary directory: best effort
	os.Exit(code)
}

func fleetfix(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return fleetfixIn(t, "", env, args...)
}

// fleetfixIn runs the binary in the directory dir ("": the test's).
func fleetfixIn(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"rollout", "--help"}, {"plan", "--help"}, {"rollback", "--help"},
		{"lab", "--help"}, {"lab", "up", "--help"}, {"lab", "down", "--help"}, {"lab", "status", "--help"},
		{"lab", "destroy", "--help"}, {"completion", "bash", "--help"}, {"unlock", "--help"},
		{"scan", "--help"}, {"reboot", "--help"}, {"prune", "--help"}, {"version", "--help"}, {"man", "--help"}, {"report", "--help"},
	} {
		out, _, code := fleetfix(t, nil, args...)
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("fleetfix %v: exit %d, output:\n%s", args, code, out)
		}
	}
	out, _, code := fleetfix(t, nil, "completion", "bash")
	if code != 0 || !strings.Contains(out, "__start_fleetfix") {
		t.Errorf("bash completion: exit %d", code)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	bad := filepath.Join("..", "..", "fleet", "testdata", "inventory", "bad")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"rollout", filepath.Join(bad, "unit_with_command.yaml")}, "unit_with_command.yaml:"},
		{[]string{"plan", filepath.Join(bad, "unknown_top_key.yaml")}, "unknown_top_key.yaml:"},
		{[]string{"rollout", "--output", "xml", "x.yaml"}, "--output"},
		{[]string{"rollout", "--no-such-flag", "x.yaml"}, "unknown flag"},
		{[]string{"rollout", "/nonexistent/inventory.yaml"}, "no such file"},
		{[]string{"rollout", "../../inventory.example.yaml", "--limit", "nosuchhost"}, "nosuchhost"},
		{[]string{"rollback", "-i", "../../inventory.example.yaml"}, "--all"},
		{[]string{"rollback", "-i", "../../inventory.example.yaml", "h1", "--run", "yesterday"}, "--run"},
		{[]string{"scan", "--top", "-1", "../../inventory.example.yaml"}, "--top -1"},
		{[]string{"scan", "-o", "json", "--format", "md", "../../inventory.example.yaml"}, "--format md and --output json: give one"},
		{[]string{"rollout", "a.yaml", "b.yaml"}, "want one inventory"},
		{[]string{"unlock", "-i", "../../inventory.example.yaml"}, "name the hosts to unlock"},
		{[]string{"nosuch"}, `unknown command "nosuch"`},
		{[]string{"rolout"}, "did you mean rollout?"},
		{[]string{"version", "extra"}, "unknown command"},
		{[]string{"lab", "status", "extra"}, "unknown command"},
		{[]string{"man", "nosuch"}, "no such command"},
	}
	for _, tt := range tests {
		_, stderr, code := fleetfix(t, nil, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("fleetfix %v: exit %d, stderr %q; want exit %d mentioning %q", tt.args, code, stderr, exitUsage, tt.want)
		}
	}
}

func TestLabRefusesWithoutRootOrPackages(t *testing.T) {
	if os.Geteuid() != 0 {
		_, stderr, code := fleetfix(t, nil, "lab", "up")
		if code == 0 || !strings.Contains(stderr, "must run as root") {
			t.Errorf("lab up as non-root: exit %d, %q", code, stderr)
		}
		return
	}
	// As root: run it as nobody, and with a PATH that lacks the lab's tools.
	if _, err := exec.LookPath("setpriv"); err == nil {
		cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary, "lab", "up", "--state-dir", t.TempDir())
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "must run as root") {
			t.Errorf("lab up as nobody: %v, %s", err, out)
		}
	}
	_, stderr, code := fleetfix(t, []string{"PATH=" + t.TempDir()}, "lab", "up", "--state-dir", t.TempDir())
	if code == 0 || !strings.Contains(stderr, "systemd-nspawn (Debian package systemd-container)") || !strings.Contains(stderr, "mmdebstrap (Debian package mmdebstrap)") {
		t.Errorf("lab up without tools: exit %d, %q", code, stderr)
	}
}

// tinyInventory writes an inventory for one host at address:port whose
// artifact is a small local file.
func tinyInventory(t *testing.T, address string, port int) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "build"), []byte("#!/bin/sh\n"), 0o755)
	writeFile(t, filepath.Join(dir, "known_hosts"), nil, 0o644)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "id"), pem.EncodeToMemory(blk), 0o600)
	inv := filepath.Join(dir, "inventory.yaml")
	writeFile(t, inv, []byte(fmt.Sprintf(`defaults:
  agent: false
  identity_files: [id]
  known_hosts: [known_hosts]
  connect_timeout: 5s
hosts:
  - name: web1
    address: %s
    port: %d
services:
  - unit: demo.service
    artifacts:
      - {src: build, dest: /usr/local/bin/demo}
`, address, port)), 0o644)
	return inv
}

// Every command that changes or reboots hosts exits 1 when a host failed.
func TestFailedHostExits1(t *testing.T) {
	// Nothing listens on port 1 of the loopback: refused at once.
	inv := tinyInventory(t, "127.0.0.1", 1)
	for _, args := range [][]string{
		{"rollout", inv}, {"plan", inv}, {"reboot", "-i", inv, "--all"},
		{"rollback", "-i", inv, "--all"}, {"prune", "-i", inv, "--all"},
	} {
		out, _, code := fleetfix(t, []string{"XDG_STATE_HOME=" + t.TempDir()}, args...)
		if code != exitFailedHosts || !strings.Contains(out, "failed") || !strings.Contains(out, "connect") {
			t.Errorf("%v: exit %d, want %d:\n%s", args, code, exitFailedHosts, out)
		}
	}
}

// silentListener accepts connections and says nothing: a connect step to
// it is busy until its 5 s timeout.
func silentListener(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// interrupted runs a rollout to a silent host, with the state directory
// under state, sends it n SIGINTs a second apart, and returns its output
// once it exited 130.
func interrupted(t *testing.T, n int, state string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, "rollout", tinyInventory(t, "127.0.0.1", silentListener(t)))
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+state)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for range n {
		time.Sleep(time.Second)
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d\n%s\n%s", err, exitInterrupted, o.String(), e.String())
	}
	return o.String(), e.String()
}

func TestInterruptIsGracefulAndExits130(t *testing.T) {
	// Ctrl-C must let the connect step end, start nothing else, print the
	// summary and exit 130.
	state := t.TempDir()
	o, e := interrupted(t, 1, state)
	if !strings.Contains(e, "no new host starts") || !strings.Contains(o, "HOST") {
		t.Errorf("no graceful stop message or no summary:\n%s\n%s", o, e)
	}
	// The halted run stored its summary all the same, saying so.
	if md, stderr, code := fleetfix(t, []string{"XDG_STATE_HOME=" + state}, "report"); code != 0 || !strings.Contains(md, ", halted: 1 host(s)") {
		t.Errorf("report of the halted run: exit %d\n%s%s", code, md, stderr)
	}
}

func TestInterruptTwiceCancels(t *testing.T) {
	// The second Ctrl-C cuts the connect step off: the host is cancelled,
	// not failed, and the run's end says who stopped it.
	o, e := interrupted(t, 2, t.TempDir())
	if !strings.Contains(e, "stopping now") || !regexp.MustCompile(`(?m)^web1 +canary +cancelled +connect `).MatchString(o) ||
		!strings.Contains(o, "stopped by the operator") || !strings.Contains(o, "0 failed, 1 cancelled") {
		t.Errorf("want web1 cancelled at connect, stopped by the operator:\n%s\n%s", o, e)
	}
}

func writeFile(t *testing.T, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
}
