// Package labtest gives a test package its own lab fleet: real systemd and
// sshd in systemd-nspawn hosts, on a bridge, subnet and state directory of its
// own so packages tested in parallel never share a host.
package labtest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/lab"
)

// RequireEnv makes lab tests fail instead of skip when the lab cannot run;
// `make test` and CI set it so a missing lab never passes silently.
const RequireEnv = "FLEETFIX_LAB_REQUIRED"

// Lab is a running test lab.
type Lab struct {
	Config lab.Config
	State  *lab.State
	// UpTime is how long bringing the lab up took.
	UpTime time.Duration
	// UpOptions brought the lab up: a test that runs lab.Up again passes
	// them, so each host keeps its release.
	UpOptions lab.UpOptions
}

// Options for Start.
type Options struct {
	Name        string        // short, unique per test package: [a-z0-9]{1,5}
	Index       int           // 1..250, unique per test package: picks subnet 10.78.<Index>.0/24
	Hosts       int           // number of hosts
	StopTimeout time.Duration // demo service TimeoutStopSec on the hosts (0: systemd's 90 s)
	// Distro is the hosts' Debian release, or several comma-separated that
	// they alternate ("bookworm,trixie": h1 bookworm, h2 trixie, ...);
	// "" is bookworm.
	Distro string
	// SSHSocket starts sshd by ssh.socket on the hosts whose release can.
	SSHSocket bool
}

// Config is the lab config a test package with these options uses.
func (o Options) Config() lab.Config {
	return lab.Config{
		StateDir:    filepath.Join("/var/lib/fleetfix", "test-"+o.Name),
		Bridge:      "fft" + o.Name,
		Subnet:      fmt.Sprintf("10.78.%d.0/24", o.Index),
		StopTimeout: o.StopTimeout,
	}
}

// Available says why a lab cannot run here, or "" when it can.
func Available() string {
	if os.Geteuid() != 0 {
		return "lab tests need root"
	}
	for _, c := range []string{"systemd-nspawn", "mmdebstrap", "ip", "ssh"} {
		if _, err := exec.LookPath(c); err != nil {
			return "lab tests need " + c + " (run `make deps`)"
		}
	}
	return ""
}

// NoLabEnv runs the unit tests alone, as -short does.
const NoLabEnv = "FLEETFIX_NO_LAB"

// Main runs a package's tests around a fresh lab: it destroys any leftover of
// an earlier run, brings the lab up, runs the tests and destroys it again. When
// the lab cannot run or is not wanted (-short, NoLabEnv), tests run with
// l == nil (Need skips or fails them).
func Main(m *testing.M, o Options, l **Lab) int {
	flag.Parse()
	if unwanted() != "" {
		return m.Run()
	}
	if why := Available(); why != "" {
		fmt.Fprintf(os.Stderr, "labtest: no lab (%s)\n", why)
		return m.Run()
	}
	c := o.Config()
	// Two runs of the same package (a developer's and a helper's) would
	// destroy each other's lab: the second waits for the first.
	if err := os.MkdirAll(filepath.Dir(c.StateDir), 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "labtest: %v\n", err)
		return 1
	}
	lock, err := os.OpenFile(c.StateDir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "labtest: %v\n", err)
		return 1
	}
	defer func() { _ = lock.Close() }() // releases the lock; nothing was written
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		fmt.Fprintf(os.Stderr, "labtest: lock %s: %v\n", lock.Name(), err)
		return 1
	}
	c.Logf = func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, "labtest %s: "+f+"\n", append([]any{o.Name}, a...)...)
	}
	ctx := context.Background()
	down := lab.DownOptions{HaltTimeout: 30 * time.Second}
	// A leftover of a killed run is garbage: no need to wait for its halt.
	if err := lab.Destroy(ctx, c, lab.DownOptions{HaltTimeout: 3 * time.Second}); err != nil {
		fmt.Fprintf(os.Stderr, "labtest: destroy leftover lab: %v\n", err)
		return 1
	}
	distros, err := lab.ParseDistros(o.Distro)
	if err != nil {
		fmt.Fprintf(os.Stderr, "labtest: %v\n", err)
		return 1
	}
	up := lab.UpOptions{Hosts: o.Hosts, Distros: distros, SSHSocket: o.SSHSocket}
	start := time.Now()
	st, err := lab.Up(ctx, c, up)
	if err != nil {
		fmt.Fprintf(os.Stderr, "labtest: lab up: %v\n", err)
		if err := lab.Destroy(ctx, c, down); err != nil {
			fmt.Fprintf(os.Stderr, "labtest: destroy the half-up lab: %v\n", err)
		}
		return 1
	}
	*l = &Lab{Config: c, State: st, UpTime: time.Since(start), UpOptions: up}
	code := m.Run()
	if os.Getenv("FLEETFIX_KEEP_LAB") != "" {
		fmt.Fprintf(os.Stderr, "labtest: keeping lab at %s\n", c.StateDir)
		return code
	}
	if err := lab.Destroy(ctx, c, down); err != nil {
		fmt.Fprintf(os.Stderr, "labtest: destroy: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// unwanted says why this run asks for no lab, or "" when it wants one. -short
// is the unit tier (`make unit`: no root, no containers); a fuzzing run, and
// each of its worker processes, which run TestMain too, fuzzes pure code.
func unwanted() string {
	switch {
	case testing.Short():
		return "-short"
	case isSet("test.fuzz") || isSet("test.fuzzworker"):
		return "fuzzing"
	case os.Getenv(NoLabEnv) != "":
		return NoLabEnv + " is set"
	}
	return ""
}

// Need skips the test when there is no lab, or fails it under RequireEnv when
// the lab was wanted but could not run: -short asks for no lab, so it skips.
func Need(t testing.TB, l *Lab) {
	t.Helper()
	if l != nil {
		return
	}
	why := unwanted()
	if why == "" {
		why = Available()
	}
	msg := "no lab: " + why
	if os.Getenv(RequireEnv) != "" && !testing.Short() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// SSH runs a shell script on host i (0-based) as root with the OpenSSH client,
// strict host key checking against the lab's known_hosts.
func (l *Lab) SSH(t testing.TB, i int, script string) string {
	t.Helper()
	out, err := l.TrySSH(i, script)
	if err != nil {
		t.Fatalf("ssh %s: %v\n%s", l.State.Hosts[i].Name, err, out)
	}
	return out
}

// TrySSH is SSH that returns the error.
func (l *Lab) TrySSH(i int, script string) (string, error) {
	args := append(lab.SSHArgs(l.Config, l.State.Hosts[i]), script)
	out, err := exec.Command("ssh", args...).CombinedOutput()
	return strings.TrimRight(string(out), "\n"), err
}

func isSet(name string) bool {
	f := flag.Lookup(name)
	return f != nil && f.Value.String() != "" && f.Value.String() != "false"
}
