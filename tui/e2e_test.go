package tui

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/inventory"
)

var tl *labtest.Lab

// The end-to-end test drives the real binary in tmux against a lab of its
// own: 3 hosts whose buggy demo service hangs 3 s at a shutdown.
func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	os.Exit(labtest.Main(m, labtest.Options{Name: "tui", Index: 4, Hosts: 3, StopTimeout: 3 * time.Second}, &tl))
}

// needOrSkip skips the test for why, or fails it where the lab is required.
func needOrSkip(t *testing.T, why string) {
	t.Helper()
	if os.Getenv(labtest.RequireEnv) != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// term is one tmux session on a server of the test's own.
type term struct {
	t      *testing.T
	socket string
}

func (tm *term) tmux(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// screen is the pane as text; withEscapes keeps colors (for screenshots).
func (tm *term) screen(withEscapes bool) string {
	tm.t.Helper()
	args := []string{"capture-pane", "-p", "-t", "fftui"}
	if withEscapes {
		args = append(args, "-e")
	}
	return tm.tmux(args...)
}

func (tm *term) keys(keys ...string) {
	tm.t.Helper()
	tm.tmux(append([]string{"send-keys", "-t", "fftui"}, keys...)...)
}

// waitFor polls the screen until cond holds, or fails after timeout.
func (tm *term) waitFor(what string, timeout time.Duration, cond func(screen string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := tm.screen(false)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("waited %s for %s; screen:\n%s", timeout, what, s)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func contains(sub string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, sub) }
}

// row is the table row of host on the screen ("" when absent).
func row(screen, host string) string {
	re := regexp.MustCompile(`(?m)^[▸ ] ` + regexp.QuoteMeta(host) + ` .*$`)
	return re.FindString(screen)
}

func rowHas(host, sub string) func(string) bool {
	return func(s string) bool { return strings.Contains(row(s, host), sub) }
}

// callSiteWired says whether cmd/fleetfix calls the TUI (tui/CALLSITE.txt).
func callSiteWired(t *testing.T) bool {
	b, err := os.ReadFile(filepath.Join("..", "cmd", "fleetfix", "rollout.go"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(b, []byte("runRolloutTUI("))
}

// TestEndToEndInTmux runs `fleetfix rollout` on a 120x40 tmux terminal:
// plan, confirm, pause (no new host starts), resume, roll h1 back with r+y,
// quit; then checks the screen, the summary left on the terminal, and the
// hosts themselves. FLEETFIX_TUI_SHOTS=DIR saves the colored screens of
// the running table and the timings view there (for docs/).
func TestEndToEndInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: not with -short")
	}
	labtest.Need(t, tl)
	if _, err := exec.LookPath("tmux"); err != nil {
		needOrSkip(t, "the end-to-end test needs tmux (apt-get install -y tmux)")
	}
	if !callSiteWired(t) {
		needOrSkip(t, "cmd/fleetfix/rollout.go does not call the TUI yet: apply tui/CALLSITE.txt")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fleetfix")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/fleetfix").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	invFile := writeQuickStopInventory(t, dir)
	rebootBuggyHosts(t, invFile)

	tm := &term{t: t, socket: fmt.Sprintf("fftui-%d", os.Getpid())}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", tm.socket, "kill-server").Run() })
	script := fmt.Sprintf("%s rollout inventory.yaml --state-dir %s; echo EXIT=$?; sleep 600", bin, filepath.Join(dir, "state"))
	tm.tmux("-f", "/dev/null", "new-session", "-d", "-s", "fftui", "-x", "120", "-y", "40", "-c", dir,
		"-e", "TERM=xterm-256color", "-e", "COLORTERM=truecolor", "-e", "NO_COLOR=", "sh", "-c", script)

	checkPlanAndConfirm(t, tm)
	pauseTheCanaryAndResume(t, tm)
	rollBackH1ToTheEnd(t, tm)
	checkTerminalAfterExit(t, tm)
	checkHostsAfterRun(t)
}

// writeQuickStopInventory writes into dir the lab's inventory with a 4 s
// stop timeout in the fix's drop-ins, so the restart of each buggy build
// (which ignores SIGTERM) takes 4 s, and returns its path.
func writeQuickStopInventory(t *testing.T, dir string) string {
	t.Helper()
	inv, err := os.ReadFile(tl.Config.InventoryFile())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(inv, []byte("TimeoutStopSec: 20s")) {
		t.Fatalf("lab inventory has no TimeoutStopSec: 20s:\n%s", inv)
	}
	invFile := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(invFile, bytes.ReplaceAll(inv, []byte("TimeoutStopSec: 20s"), []byte("TimeoutStopSec: 4s")), 0o644); err != nil {
		t.Fatal(err)
	}
	return invFile
}

// rebootBuggyHosts checks every host runs the buggy build and reboots
// them, so each journal holds a shutdown where the buggy service was
// SIGKILLed: the "before" of the stop timings.
func rebootBuggyHosts(t *testing.T, invFile string) {
	t.Helper()
	for i := range tl.State.Hosts {
		if v := tl.SSH(t, i, "smart-proxy --version"); !strings.Contains(v, "1.0.0") {
			t.Fatalf("host %d runs %q before the rollout, want the buggy 1.0.0", i, v)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	fi, err := inventory.Load(invFile)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := fleet.Reboot(ctx, fleet.Options{Inventory: fi, Dial: fleet.RemoteDialer(fi, fleet.ConnectOptions{})})
	if err != nil || !sum.OK() {
		t.Fatalf("reboot before the rollout: %v %+v", err, sum)
	}
}

// checkPlanAndConfirm checks the plan shows every host, what changes, and
// nothing started, then confirms it.
func checkPlanAndConfirm(t *testing.T, tm *term) {
	t.Helper()
	s := tm.waitFor("the plan", 60*time.Second, contains("Start the rollout?"))
	// The three hosts have the same changes: one group, one diff.
	for _, want := range []string{"fleetfix rollout inventory.yaml (run ", "PLAN · nothing has changed yet", "policy: 3 host(s) in 2 batch(es) · canary 1",
		"── h1, h2, h3: 4 file(s) to change",
		"~ /usr/local/bin/smart-proxy", "+ /etc/systemd/system/smart-proxy.service.d/override.conf", "+TimeoutStopSec=4s"} {
		if !strings.Contains(s, want) {
			t.Errorf("plan screen lacks %q:\n%s", want, s)
		}
	}
	tm.keys("y")
}

// pauseTheCanaryAndResume pauses while the canary runs, checks that no
// new host starts while paused, and resumes.
func pauseTheCanaryAndResume(t *testing.T, tm *term) {
	t.Helper()
	tm.waitFor("h1 running", 30*time.Second, rowHas("h1", "running"))
	tm.keys("p")
	s := tm.waitFor("paused", 10*time.Second, contains("PAUSED"))
	if !strings.Contains(s, "paused: no new host starts") {
		t.Errorf("paused screen lacks the explanation:\n%s", s)
	}
	tm.waitFor("h1 done", 60*time.Second, rowHas("h1", "✓ ok"))
	// Paused: h2 and h3 must not start, however long we wait.
	held := time.Now().Add(4 * time.Second)
	for time.Now().Before(held) {
		s = tm.screen(false)
		for _, h := range []string{"h2", "h3"} {
			if r := row(s, h); !strings.Contains(r, "queued") {
				t.Fatalf("%s started while paused: %q\n%s", h, r, s)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	if r := row(s, "h1"); !strings.Contains(r, "✗KILL →") || !strings.Contains(r, "✓") {
		t.Errorf("h1's row lacks its stop times before → after: %q", r)
	}
	tm.keys("p")
	tm.waitFor("resumed: h2 starts", 20*time.Second, func(s string) bool {
		return !strings.Contains(s, "PAUSED") && !strings.Contains(row(s, "h2"), "queued")
	})
	if os.Getenv("FLEETFIX_TUI_SHOTS") != "" {
		tm.keys("j") // h2's live log in the detail pane
		time.Sleep(2500 * time.Millisecond)
		shot(t, tm, "running")
	}
}

// rollBackH1ToTheEnd rolls h1 back (select it, r, confirm), waits for the
// run's end, checks the table and the timings view, and quits.
func rollBackH1ToTheEnd(t *testing.T, tm *term) {
	t.Helper()
	time.Sleep(time.Second) // h1's host lock is released just after its last event
	tm.keys("k", "k", "k", "r")
	tm.waitFor("the rollback question", 10*time.Second, contains("Roll back h1?"))
	tm.keys("y")
	tm.waitFor("h1 rolled back", 90*time.Second, rowHas("h1", "rolled back"))
	s := tm.waitFor("the run's end", 120*time.Second, contains("run finished in"))
	for h, want := range map[string]string{"h1": "rolled back", "h2": "✓ ok", "h3": "✓ ok"} {
		if r := row(s, h); !strings.Contains(r, want) {
			t.Errorf("%s: row %q, want %q", h, r, want)
		}
	}
	if r := row(s, "h2"); !strings.Contains(r, "✗KILL →") {
		t.Errorf("h2's row lacks its stop times: %q", r)
	}
	if !strings.Contains(s, "rolled back 1") || !strings.Contains(s, "ok 2") {
		t.Errorf("header counts wrong:\n%s", s)
	}
	tm.keys("t")
	s = tm.waitFor("the timings view", 10*time.Second, contains("STOP TIME AT SHUTDOWN"))
	if !strings.Contains(s, "SIGKILLed") || !strings.Contains(s, "✓ clean") || !strings.Contains(s, "faster") {
		t.Errorf("timings view:\n%s", s)
	}
	if os.Getenv("FLEETFIX_TUI_SHOTS") != "" {
		shot(t, tm, "timings")
	}
	tm.keys("t", "q")
}

// checkTerminalAfterExit checks the terminal is back once fleetfix exits:
// no alternate screen, the summary printed.
func checkTerminalAfterExit(t *testing.T, tm *term) {
	t.Helper()
	s := tm.waitFor("fleetfix to exit", 30*time.Second, contains("EXIT="))
	t.Logf("the terminal after fleetfix exited:\n%s", strings.TrimRight(s, "\n"))
	if !strings.Contains(s, "EXIT=0") {
		t.Errorf("exit status:\n%s", s)
	}
	for _, want := range []string{"HOST", "rolled-back", "STOP BEFORE", "SIGKILLed"} {
		if !strings.Contains(s, want) {
			t.Errorf("the summary after exit lacks %q:\n%s", want, s)
		}
	}
	if alt := strings.TrimSpace(tm.tmux("display-message", "-p", "-t", "fftui", "#{alternate_on} #{cursor_flag}")); alt != "0 1" {
		t.Errorf("terminal not restored: alternate screen, cursor = %q, want \"0 1\"", alt)
	}
}

// checkHostsAfterRun checks the hosts: h1 back on the buggy build without
// the drop-in, the others fixed; every service running.
func checkHostsAfterRun(t *testing.T) {
	t.Helper()
	want := []string{"smart-proxy 1.0.0 (buggy)", "smart-proxy 1.0.1 (fixed)", "smart-proxy 1.0.1 (fixed)"}
	for i, w := range want {
		if v := tl.SSH(t, i, "smart-proxy --version"); v != w {
			t.Errorf("%s runs %q, want %q", tl.State.Hosts[i].Name, v, w)
		}
		dropin := tl.SSH(t, i, "test -e /etc/systemd/system/smart-proxy.service.d/override.conf && echo yes || echo no")
		if wantDropin := map[bool]string{true: "no", false: "yes"}[i == 0]; dropin != wantDropin {
			t.Errorf("%s: drop-in present %s, want %s", tl.State.Hosts[i].Name, dropin, wantDropin)
		}
		if a := tl.SSH(t, i, "systemctl is-active smart-proxy"); a != "active" {
			t.Errorf("%s: smart-proxy %s", tl.State.Hosts[i].Name, a)
		}
	}
}

// shot saves the colored screen to $FLEETFIX_TUI_SHOTS/<name>.ans.
func shot(t *testing.T, tm *term, name string) {
	t.Helper()
	d := os.Getenv("FLEETFIX_TUI_SHOTS")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, name+".ans"), []byte(tm.screen(true)), 0o644); err != nil {
		t.Fatal(err)
	}
}
