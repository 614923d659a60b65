package fleet_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	smartproxy "github.com/fleetfix/fleetfix/examples/smart-proxy"
	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/lab"
	"github.com/fleetfix/fleetfix/remote"
)

var tl *labtest.Lab

// The fleet package's lab: h1-h3 take the main rollout, h4 the sudo tests,
// h5 is reachable only through a bastion, h6 takes the failing build and
// the quoting test; h7-h8 the reboot timings, h9-h10 a host that never comes
// back, h11 a host key that changes across a reboot, h12-h13 the bounded
// restart of the old build (restart_lab_test.go). The demo service stops
// with a 3 s TimeoutStopSec, so the buggy build's hang takes 3 s, not 90.
// Odd hosts run bookworm (systemd 252, sshd by ssh.service), even ones
// trixie (systemd 257, sshd by ssh.socket as on Ubuntu 24.04), so each
// rollout and reboot test meets both.
func TestMain(m *testing.M) {
	os.Exit(labtest.Main(m, labtest.Options{Name: "flt", Index: 2, Hosts: 13, StopTimeout: 3 * time.Second,
		Distro: "bookworm,trixie", SSHSocket: true}, &tl))
}

// invSpec describes a test inventory.
type invSpec struct {
	hosts     []int  // lab host indexes (0-based)
	defaults  string // extra lines under defaults:
	hostExtra map[int]string
	bastions  string
	artifact  []byte // default: the fixed build
	dest      string // default /usr/local/bin/smart-proxy
	owner     string // the artifact's; default root:root
	settings  string // drop-in settings block; default: the four of the fix
	policy    string
	health    string
	restart   string // the service's restart block, if any
	// services, when set, is the whole services section instead, and
	// files are more local files it names, by name in the test's dir.
	services string
	files    map[string][]byte
	verify   string // the service's verify block, if any
}

func writeInventory(t *testing.T, s invSpec) (*inventory.Inventory, string) {
	t.Helper()
	dir := t.TempDir()
	art := s.artifact
	if art == nil {
		art = smartproxy.Fixed
	}
	if err := os.WriteFile(filepath.Join(dir, "smart-proxy"), art, 0o755); err != nil {
		t.Fatal(err)
	}
	dest := s.dest
	if dest == "" {
		dest = "/usr/local/bin/smart-proxy"
	}
	owner := s.owner
	if owner == "" {
		owner = "root:root"
	}
	settings := s.settings
	if settings == "" {
		settings = "        TimeoutStopSec: 20s\n        KillMode: mixed\n        KillSignal: SIGTERM\n        FinalKillSignal: SIGKILL\n"
	}
	health := s.health
	if health == "" {
		health = "      tcp: 127.0.0.1:8080\n      timeout: 15s\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "defaults:\n  identity_files: [%s]\n  known_hosts: [%s]\n  agent: false\n  connect_timeout: 5s\n%s", tl.Config.KeyFile(), tl.Config.KnownHostsFile(), s.defaults)
	if s.bastions != "" {
		b.WriteString("bastions:\n" + s.bastions)
	}
	b.WriteString("hosts:\n")
	for _, i := range s.hosts {
		h := tl.State.Hosts[i]
		fmt.Fprintf(&b, "  - name: %s\n    address: %s\n%s", h.Name, h.Address, s.hostExtra[i])
	}
	for name, content := range s.files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if s.services != "" {
		b.WriteString(s.services)
	} else {
		fmt.Fprintf(&b, `services:
  - unit: smart-proxy.service
    artifacts:
      - src: smart-proxy
        dest: %q
        mode: "0755"
        owner: %s
    dropin:
      settings:
%s    health:
%s%s%s`, dest, owner, settings, health, s.restart, s.verify)
	}
	b.WriteString("rollout:\n" + s.policy)
	path := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatalf("load test inventory: %v\n%s", err, b.String())
	}
	return inv, dir
}

// events collects a run's events, safe for concurrent reporting.
type events struct {
	mu  sync.Mutex
	all []fleet.Event
}

func (e *events) Report(ev fleet.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) text() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, ev := range e.all {
		fmt.Fprintf(&b, "%s %s %s %s %v\n", ev.Host, ev.Step, ev.Phase, ev.Message, ev.Err)
	}
	return b.String()
}

func rollout(t *testing.T, inv *inventory.Inventory, o fleet.ConnectOptions) (*fleet.Summary, *events) {
	t.Helper()
	ev := &events{}
	s, err := fleet.Rollout(context.Background(), fleet.Options{Inventory: inv, Dial: fleet.RemoteDialer(inv, o), Reporter: ev, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return s, ev
}

func rollback(t *testing.T, inv *inventory.Inventory, targets []inventory.Target, o fleet.ConnectOptions) (*fleet.Summary, *events) {
	t.Helper()
	ev := &events{}
	s, err := fleet.Rollback(context.Background(), fleet.RollbackOptions{Inventory: inv, Targets: targets, Dial: fleet.RemoteDialer(inv, o), Reporter: ev})
	if err != nil {
		t.Fatal(err)
	}
	return s, ev
}

func statuses(s *fleet.Summary) string {
	var parts []string
	for _, h := range s.Hosts {
		parts = append(parts, h.Host+"="+string(h.Status))
	}
	return strings.Join(parts, " ")
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fileState is "sha256 mode owner:group" of a path on lab host i, or "missing".
func fileState(t *testing.T, i int, path string) string {
	t.Helper()
	return tl.SSH(t, i, fmt.Sprintf(`p=%s; if [ -e "$p" ]; then echo "$(sha256sum < "$p" | cut -d' ' -f1) $(stat -c '%%a %%U:%%G' "$p")"; else echo missing; fi`, remote.Quote(path)))
}

func TestRolloutNoopRollbackRollout(t *testing.T) {
	labtest.Need(t, tl)
	inv, _ := writeInventory(t, invSpec{hosts: []int{0, 1, 2}, policy: "  canary: 1\n  batch: 100%\n"})
	before := oddlyOwnedBuggyBuilds(t)
	dial := fleet.RemoteDialer(inv, fleet.ConnectOptions{})
	checkPlanLeavesNoTrace(t, inv, dial, before)
	s := rolloutAndCheck(t, inv, before)
	checkNoopRerun(t, inv)
	rollbackAndCheck(t, inv, before)
	s3 := rolloutAgainAndCheck(t, inv, s, before)
	checkRollbacksByRunID(t, inv, dial, s, s3, before)
}

// oddlyOwnedBuggyBuilds gives h1-h3's builds a mode and owner a rollback
// must restore, not just the defaults, and returns their fileStates.
func oddlyOwnedBuggyBuilds(t *testing.T) map[int]string {
	t.Helper()
	before := map[int]string{}
	for i := 0; i < 3; i++ {
		// A run id is per second; make the file's mode and owner something a
		// rollback must restore, not just the defaults.
		tl.SSH(t, i, "chmod 0750 "+labBin+" && chown root:adm "+labBin)
		before[i] = fileState(t, i, labBin)
		if want := sha(smartproxy.Buggy) + " 750 root:adm"; before[i] != want {
			t.Fatalf("h%d starts as %s, want %s", i+1, before[i], want)
		}
	}
	return before
}

// checkPlanLeavesNoTrace runs a plan (the same steps through a dry host)
// and checks that it says what it would do and changes nothing.
func checkPlanLeavesNoTrace(t *testing.T, inv *inventory.Inventory, dial fleet.Dialer, before map[int]string) {
	t.Helper()
	pev := &events{}
	plan, err := fleet.Rollout(context.Background(), fleet.PlanOptions(fleet.Options{Inventory: inv, Dial: dial, Reporter: pev}))
	if err != nil || statuses(plan) != "h1=ok h2=ok h3=ok" {
		t.Fatalf("plan: %v %s\n%s", err, statuses(plan), pev.text())
	}
	if !strings.Contains(pev.text(), "would write /usr/local/bin/smart-proxy") || !strings.Contains(pev.text(), "would run: backup") {
		t.Errorf("the plan does not say what it would do:\n%s", pev.text())
	}
	for i := 0; i < 3; i++ {
		if got := fileState(t, i, labBin); got != before[i] {
			t.Errorf("h%d changed by a plan: %s", i+1, got)
		}
		if got := tl.SSH(t, i, "ls -d /var/lib/fleetfix 2>/dev/null; ls /usr/local/bin | grep -c bak; test -e "+labDropIn+" && echo dropin; true"); got != "0" {
			t.Errorf("h%d: a plan left traces: %q", i+1, got)
		}
	}
}

// rolloutAndCheck rolls the fix out, canary first, and checks each host's
// build, backup, drop-in, unit and manifest.
func rolloutAndCheck(t *testing.T, inv *inventory.Inventory, before map[int]string) *fleet.Summary {
	t.Helper()
	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	if !s.OK() || statuses(s) != "h1=ok h2=ok h3=ok" {
		t.Fatalf("rollout: %s\n%s", statuses(s), ev.text())
	}
	if s.Hosts[0].Batch != 0 || s.Hosts[1].Batch != 1 || s.Hosts[2].Batch != 1 {
		t.Errorf("batches: canary then the rest, got %d %d %d", s.Hosts[0].Batch, s.Hosts[1].Batch, s.Hosts[2].Batch)
	}
	for i := 0; i < 3; i++ {
		if got, want := fileState(t, i, labBin), sha(smartproxy.Fixed)+" 755 root:root"; got != want {
			t.Errorf("h%d artifact: %s, want %s", i+1, got, want)
		}
		bak := labBin + ".bak." + s.RunID
		if got := fileState(t, i, bak); got != before[i] {
			t.Errorf("h%d backup %s: %s, want the old file %s", i+1, bak, got, before[i])
		}
		if got := tl.SSH(t, i, "cat "+labDropIn); !strings.Contains(got, "TimeoutStopSec=20s") || !strings.Contains(got, "KillMode=mixed") {
			t.Errorf("h%d drop-in: %s", i+1, got)
		}
		if got := tl.SSH(t, i, "systemctl show -p TimeoutStopUSec -p KillMode -p ActiveState smart-proxy.service"); got != "TimeoutStopUSec=20s\nKillMode=mixed\nActiveState=active" && got != "KillMode=mixed\nTimeoutStopUSec=20s\nActiveState=active" {
			t.Errorf("h%d systemctl show: %q", i+1, got)
		}
		if got := tl.SSH(t, i, "ls /var/lib/fleetfix/runs"); got != s.RunID+".json" {
			t.Errorf("h%d manifests: %q", i+1, got)
		}
	}
	t.Logf("rollout of 3 hosts: %s (restart of h1: %s)", s.Duration, s.Hosts[0].RestartTime)
	return s
}

// checkNoopRerun checks that a second run changes nothing and makes no
// backup.
func checkNoopRerun(t *testing.T, inv *inventory.Inventory) {
	t.Helper()
	time.Sleep(time.Second) // a new run id
	s2, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s2) != "h1=unchanged h2=unchanged h3=unchanged" {
		t.Fatalf("second rollout: %s\n%s", statuses(s2), ev.text())
	}
	for i := 0; i < 3; i++ {
		if got := tl.SSH(t, i, "ls /usr/local/bin | grep -c bak; ls /var/lib/fleetfix/runs | wc -l"); got != "1\n1" {
			t.Errorf("h%d after a no-op run: backups and manifests %q, want 1 and 1", i+1, got)
		}
	}
}

// rollbackAndCheck checks that a rollback restores every byte, mode and
// owner and removes the drop-in, and that a second one finds nothing left
// to undo.
func rollbackAndCheck(t *testing.T, inv *inventory.Inventory, before map[int]string) {
	t.Helper()
	rb, ev := rollback(t, inv, inv.Hosts, fleet.ConnectOptions{})
	if statuses(rb) != "h1=rolled-back h2=rolled-back h3=rolled-back" {
		t.Fatalf("rollback: %s\n%s", statuses(rb), ev.text())
	}
	for i := 0; i < 3; i++ {
		if got := fileState(t, i, labBin); got != before[i] {
			t.Errorf("h%d after rollback: %s, want %s", i+1, got, before[i])
		}
		if got := fileState(t, i, labDropIn); got != "missing" {
			t.Errorf("h%d drop-in after rollback: %s", i+1, got)
		}
		// The lab's own drop-in (10-lab.conf) was there before and stays.
		if got := tl.SSH(t, i, "ls /etc/systemd/system/smart-proxy.service.d; systemctl show -p TimeoutStopUSec smart-proxy.service; systemctl is-active smart-proxy.service; smart-proxy --version"); got != "10-lab.conf\nTimeoutStopUSec=3s\nactive\nsmart-proxy 1.0.0 (buggy)" {
			t.Errorf("h%d unit after rollback: %q", i+1, got)
		}
	}
	// A second rollback finds nothing left to undo.
	rb2, ev := rollback(t, inv, inv.Hosts[:1], fleet.ConnectOptions{})
	if statuses(rb2) != "h1=unchanged" {
		t.Errorf("second rollback: %s\n%s", statuses(rb2), ev.text())
	}
}

// rolloutAgainAndCheck checks rollout -> rollback -> rollout: the fix goes
// on again, with new backups.
func rolloutAgainAndCheck(t *testing.T, inv *inventory.Inventory, s *fleet.Summary, before map[int]string) *fleet.Summary {
	t.Helper()
	time.Sleep(time.Second)
	s3, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s3) != "h1=ok h2=ok h3=ok" || s3.RunID == s.RunID {
		t.Fatalf("rollout after rollback: %s\n%s", statuses(s3), ev.text())
	}
	for i := 0; i < 3; i++ {
		if got := fileState(t, i, labBin+".bak."+s3.RunID); got != before[i] {
			t.Errorf("h%d new backup: %s", i+1, got)
		}
	}
	return s3
}

// checkRollbacksByRunID undoes h1's runs by id: the first run s is rolled
// back already; the third, s3, is refused while a fourth stands and undone
// once the fourth is.
func checkRollbacksByRunID(t *testing.T, inv *inventory.Inventory, dial fleet.Dialer, s, s3 *fleet.Summary, before map[int]string) {
	t.Helper()
	ev := &events{}
	old, _ := fleet.Rollback(context.Background(), fleet.RollbackOptions{Inventory: inv, Targets: inv.Hosts[:1], Dial: dial, Reporter: ev, RunID: s.RunID})
	if statuses(old) != "h1=failed" || !strings.Contains(old.Hosts[0].Error, "already rolled back") {
		t.Errorf("rollback --run of a rolled-back run: %s %s", statuses(old), old.Hosts[0].Error)
	}
	// Someone deletes h1's drop-in; a fourth run puts it back. Runs undo
	// newest first: --run of the third is refused while the fourth stands.
	tl.SSH(t, 0, "rm "+labDropIn+" && systemctl daemon-reload")
	time.Sleep(time.Second)
	s4, ev := rollout(t, &inventory.Inventory{Path: inv.Path, Defaults: inv.Defaults, Hosts: inv.Hosts[:1], Services: inv.Services, Rollout: inv.Rollout}, fleet.ConnectOptions{})
	if statuses(s4) != "h1=ok" || s4.Hosts[0].Changed != 1 {
		t.Fatalf("fourth run: %s, %d changed\n%s", statuses(s4), s4.Hosts[0].Changed, ev.text())
	}
	refused, _ := fleet.Rollback(context.Background(), fleet.RollbackOptions{Inventory: inv, Targets: inv.Hosts[:1], Dial: dial, Reporter: ev, RunID: s3.RunID})
	if statuses(refused) != "h1=failed" || !strings.Contains(refused.Hosts[0].Error, "newer") {
		t.Errorf("rollback --run under a newer run: %s %s", statuses(refused), refused.Hosts[0].Error)
	}
	if rb4, _ := rollback(t, inv, inv.Hosts[:1], fleet.ConnectOptions{}); statuses(rb4) != "h1=rolled-back" || fileState(t, 0, labDropIn) != "missing" {
		t.Errorf("rollback of the fourth run: %s, drop-in %s", statuses(rb4), fileState(t, 0, labDropIn))
	}
	byID, _ := fleet.Rollback(context.Background(), fleet.RollbackOptions{Inventory: inv, Targets: inv.Hosts[:1], Dial: dial, Reporter: ev, RunID: s3.RunID})
	if statuses(byID) != "h1=rolled-back" || fileState(t, 0, labBin) != before[0] {
		t.Errorf("rollback --run %s: %s %s\n%s", s3.RunID, statuses(byID), fileState(t, 0, labBin), ev.text())
	}
}

func TestWrongHostKeyIsRefusedAndNothingChanges(t *testing.T) {
	labtest.Need(t, tl)
	inv, dir := writeInventory(t, invSpec{hosts: []int{5}, settings: "        TimeoutStopSec: 5s\n"})
	// known_hosts naming h6's address with h5's key.
	kh, err := os.ReadFile(tl.Config.KnownHostsFile())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
	wrong := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(wrong, []byte(tl.State.Hosts[5].Address+" "+strings.SplitN(lines[4], " ", 2)[1]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv.Defaults.KnownHosts = []string{wrong}
	inv.Hosts[0].KnownHosts = nil
	before := fileState(t, 5, "/usr/local/bin/smart-proxy")
	s, ev := rollout(t, inv, fleet.ConnectOptions{TrustOnFirstUse: true}) // TOFU never accepts a changed key
	if statuses(s) != "h6=failed" || s.Hosts[0].Step != fleet.StepConnect {
		t.Fatalf("want h6 failed at connect: %s %s\n%s", statuses(s), s.Hosts[0].Step, ev.text())
	}
	var hke *remote.HostKeyError
	var he *fleet.HostError
	if err := s.Hosts[0].Err(); !errors.As(err, &hke) || hke.Unknown || !errors.As(err, &he) || he.Host != "h6" {
		t.Errorf("error %v: want a HostError wrapping a changed-key HostKeyError", err)
	}
	if after := fileState(t, 5, "/usr/local/bin/smart-proxy"); after != before {
		t.Errorf("h6 changed: %s -> %s", before, after)
	}
	if got := tl.SSH(t, 5, "ls /var/lib/fleetfix/runs 2>/dev/null | wc -l"); got != "0" {
		t.Errorf("h6 has manifests: %s", got)
	}
}

func TestUnreachableHostFailsBeforeAnyChange(t *testing.T) {
	labtest.Need(t, tl)
	inv, _ := writeInventory(t, invSpec{hosts: []int{5}, policy: "  canary: 0\n"})
	inv.Hosts[0].Address = "10.78.2.250" // in the lab subnet, no host there
	inv.Hosts[0].Name = "ghost"
	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s) != "ghost=failed" || s.Hosts[0].Step != fleet.StepConnect || !s.Halted {
		t.Fatalf("%s %s halted=%v\n%s", statuses(s), s.Hosts[0].Step, s.Halted, ev.text())
	}
}

func TestSudoUsers(t *testing.T) {
	labtest.Need(t, tl)
	const password = lab.LabUserPassword
	for _, tc := range []struct {
		user, extra string
	}{
		{"deploy", "    user: deploy\n    become: true\n"},
		{"ops", "    user: ops\n    become: true\n    become_password: true\n"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			inv, _ := writeInventory(t, invSpec{hosts: []int{3}, hostExtra: map[int]string{3: tc.extra}, settings: "        TimeoutStopSec: 5s\n        KillMode: mixed\n"})
			// An operator's own override.conf is there: backed up, replaced,
			// and restored byte for byte.
			const dropin = "/etc/systemd/system/smart-proxy.service.d/override.conf"
			tl.SSH(t, 3, "printf '[Service]\\nEnvironment=OPERATOR=1\\n' > "+dropin+" && chmod 0640 "+dropin+" && systemctl daemon-reload")
			dropinBefore := fileState(t, 3, dropin)
			asked := 0
			// One buffer for every connection, as the CLI's prompt-once cache.
			pw := []byte(password)
			o := fleet.ConnectOptions{BecomePassword: func() ([]byte, error) { asked++; return pw, nil }}
			// Watch the host's process list for the password during the run.
			stop := make(chan struct{})
			seen := make(chan string, 1)
			go func() {
				for {
					select {
					case <-stop:
						seen <- ""
						return
					default:
					}
					if out, err := tl.TrySSH(3, "ps -eo args"); err == nil && strings.Contains(out, password) {
						seen <- out
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
			s, ev := rollout(t, inv, o)
			rb, rbev := rollback(t, inv, inv.Hosts, o)
			close(stop)
			if ps := <-seen; ps != "" {
				t.Errorf("the sudo password appeared in the host's process list:\n%s", ps)
			}
			if statuses(s) != "h4=ok" || statuses(rb) != "h4=rolled-back" {
				t.Fatalf("rollout %s, rollback %s\n%s%s", statuses(s), statuses(rb), ev.text(), rbev.text())
			}
			if strings.Contains(ev.text()+rbev.text(), password) {
				t.Error("the password appeared in the events")
			}
			if got := fileState(t, 3, dropin); got != dropinBefore {
				t.Errorf("operator's drop-in after rollback: %s, want %s", got, dropinBefore)
			}
			tl.SSH(t, 3, "rm "+dropin+" && systemctl daemon-reload")
			if tc.user == "ops" && asked == 0 {
				t.Error("the password callback was never used for the ops user")
			}
			if got := tl.SSH(t, 3, "ls -l /var/lib/fleetfix/runs | tail -n +2 | awk '{print $3}' | sort -u"); got != "root" {
				t.Errorf("manifests owned by %q, want root", got)
			}
		})
	}
}

func TestBastionOnlyHost(t *testing.T) {
	labtest.Need(t, tl)
	inv, _ := writeInventory(t, invSpec{hosts: []int{4}, settings: "        TimeoutStopSec: 5s\n",
		bastions: fmt.Sprintf("  - name: jump\n    address: %s\n", tl.State.Hosts[0].Address),
		defaults: "  proxy_jump: jump\n"})
	bastionOnly(t, 4, func() (fleet.Host, error) {
		return fleet.RemoteDialer(inv, fleet.ConnectOptions{})(context.Background(), inv.Hosts[0])
	})
	direct := *inv
	direct.Defaults.ProxyJump = ""
	if _, err := fleet.RemoteDialer(&direct, fleet.ConnectOptions{})(context.Background(), inventory.Target{Name: "h5", Address: tl.State.Hosts[4].Address}); err == nil {
		t.Fatal("h5 accepts direct logins: the test cannot show the bastion is used")
	}
	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s) != "h5=ok" {
		t.Fatalf("rollout through the bastion: %s\n%s", statuses(s), ev.text())
	}
	rb, ev := rollback(t, inv, inv.Hosts, fleet.ConnectOptions{})
	if statuses(rb) != "h5=rolled-back" {
		t.Fatalf("rollback through the bastion: %s\n%s", statuses(rb), ev.text())
	}
}

// TestFailingBuildRollsItselfBack: a build that does not start fails the
// canary at its restart, which rolls it back at once (on_failure's
// default): the old build's files byte for byte, the drop-in gone, the unit
// active on the old build; the run halts with no other host touched.
func TestFailingBuildRollsItselfBack(t *testing.T) {
	labtest.Need(t, tl)
	const bin, dropin = "/usr/local/bin/smart-proxy", "/etc/systemd/system/smart-proxy.service.d/override.conf"
	inv, _ := writeInventory(t, invSpec{hosts: []int{5, 3}, artifact: brokenBuild,
		settings: "        TimeoutStopSec: 5s\n", health: "      tcp: 127.0.0.1:8080\n      timeout: 4s\n",
		policy: "  canary: 1\n  failure_budget: 0\n"})
	h4before, h6before := fileState(t, 3, bin), fileState(t, 5, bin)
	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s) != "h6=rolled-back h4=not-started" || s.Hosts[0].Step != fleet.StepRestart || !s.Halted || s.Failed() != 1 {
		t.Fatalf("%s (step %s, halted %v, failed %d)\n%s", statuses(s), s.Hosts[0].Step, s.Halted, s.Failed(), ev.text())
	}
	msg := s.Hosts[0].Error
	t.Logf("h6: %s (host %s)", msg, s.Hosts[0].Duration)
	if !strings.HasPrefix(msg, "failed at restart: ") || !strings.Contains(msg, "not healthy 4s after start: unit ") || !strings.Contains(msg, "; rolled back in ") {
		t.Errorf("error %q: want the failed step, the cause and the rollback", msg)
	}
	if got := fileState(t, 5, bin); got != h6before {
		t.Errorf("h6 build after the rollback: %s, want %s", got, h6before)
	}
	if got := fileState(t, 5, dropin); got != "missing" {
		t.Errorf("h6 drop-in after the rollback: %s", got)
	}
	if got := tl.SSH(t, 5, "systemctl is-active smart-proxy.service; smart-proxy --version"); got != "active\nsmart-proxy 1.0.0 (buggy)" {
		t.Errorf("h6 service after the rollback: %q", got)
	}
	if got := fileState(t, 3, bin); got != h4before {
		t.Errorf("h4 was touched: %s -> %s", h4before, got)
	}
	if got := tl.SSH(t, 5, "grep -o '\"state\": \"[a-z-]*\"' /var/lib/fleetfix/runs/"+s.RunID+".json; [ -e /var/lib/fleetfix/lock ] && echo held || echo free"); got != "\"state\": \"rolled-back\"\nfree" {
		t.Errorf("h6 manifest and lock: %q", got)
	}
	// Nothing is left to roll back.
	if rb, ev := rollback(t, inv, inv.Hosts[:1], fleet.ConnectOptions{}); statuses(rb) != "h6=unchanged" {
		t.Errorf("rollback after the automatic one: %s\n%s", statuses(rb), ev.text())
	}
}

// brokenBuild is a build that never starts.
var brokenBuild = []byte("#!/bin/sh\necho 'smart-proxy: cannot start' >&2\nexit 1\n")

// TestFailingBuildStopsAndRollsBackByHand: with on_failure: stop the
// failed canary is left as it failed; a re-run resumes its run, and a
// rollback puts it back.
func TestFailingBuildStopsAndRollsBackByHand(t *testing.T) {
	labtest.Need(t, tl)
	// h6 is the canary and fails; h4 must not be touched.
	inv, _ := writeInventory(t, invSpec{hosts: []int{5, 3}, artifact: brokenBuild,
		settings: "        TimeoutStopSec: 5s\n", health: "      tcp: 127.0.0.1:8080\n      timeout: 4s\n",
		policy: "  canary: 1\n  failure_budget: 0\n  on_failure: stop\n"})
	h4before := fileState(t, 3, "/usr/local/bin/smart-proxy")
	h6before := fileState(t, 5, "/usr/local/bin/smart-proxy")
	// Earlier tests of h6 left their backups.
	backupsBefore, err := strconv.Atoi(tl.SSH(t, 5, "ls /usr/local/bin | grep -c 'bak\\.' || true"))
	if err != nil {
		t.Fatal(err)
	}
	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s) != "h6=failed h4=not-started" || s.Hosts[0].Step != fleet.StepRestart || !s.Halted {
		t.Fatalf("%s (step %s, halted %v)\n%s", statuses(s), s.Hosts[0].Step, s.Halted, ev.text())
	}
	var he *fleet.HostError
	if !errors.As(s.Hosts[0].Err(), &he) || he.Step != fleet.StepRestart || he.Host != "h6" {
		t.Errorf("error %v is not a HostError at restart", s.Hosts[0].Err())
	}
	// Nothing ever listened: the health wait asks the unit before giving up,
	// and names its state rather than the port.
	if msg := s.Hosts[0].Error; !strings.Contains(msg, "not healthy 4s after start: unit failed (exit 1)") {
		t.Errorf("health failure %q does not name the unit's state", msg)
	}
	if got := fileState(t, 3, "/usr/local/bin/smart-proxy"); got != h4before {
		t.Errorf("h4 was touched: %s -> %s", h4before, got)
	}
	// A re-run finds h6's files already new but its run unfinished: it resumes
	// that run (no new backup) and fails again at the restart, never
	// "unchanged".
	time.Sleep(time.Second)
	again, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(again) != "h6=failed h4=not-started" || again.Hosts[0].Step != fleet.StepRestart || again.Hosts[0].RunID != s.RunID {
		t.Errorf("re-run: %s at %s, run %s (want the resumed %s)\n%s", statuses(again), again.Hosts[0].Step, again.Hosts[0].RunID, s.RunID, ev.text())
	}
	if got := tl.SSH(t, 5, "ls /usr/local/bin | grep -c 'bak\\.'; ls /usr/local/bin | grep -c 'bak\\.'"+s.RunID); got != fmt.Sprint(backupsBefore+1)+"\n1" {
		t.Errorf("backups after the resumed run (all, the run's): %q, want %d and 1", got, backupsBefore+1)
	}
	rb, ev := rollback(t, inv, inv.Hosts[:1], fleet.ConnectOptions{})
	if statuses(rb) != "h6=rolled-back" {
		t.Fatalf("rollback: %s\n%s", statuses(rb), ev.text())
	}
	if got := fileState(t, 5, "/usr/local/bin/smart-proxy"); got != h6before {
		t.Errorf("h6 after rollback: %s, want %s", got, h6before)
	}
	if got := tl.SSH(t, 5, "systemctl is-active smart-proxy.service; smart-proxy --version"); got != "active\nsmart-proxy 1.0.0 (buggy)" {
		t.Errorf("h6 service after rollback: %q", got)
	}
}

func TestHostileRemotePathIsQuoted(t *testing.T) {
	labtest.Need(t, tl)
	dest := "/opt/odd dir/it's $(touch /tmp/pwned) `touch /tmp/pwned2`;x"
	// The directory does not exist: the run creates it and the rollback removes it.
	tl.SSH(t, 5, "rm -f /tmp/pwned /tmp/pwned2; rm -rf '/opt/odd dir'")
	// No reboot: the unit keeps running the buggy build (the fixed one goes
	// to the odd path), so its stop at a reboot would rightly fail verify.
	inv, _ := writeInventory(t, invSpec{hosts: []int{5}, dest: dest, settings: "        TimeoutStopSec: 5s\n", policy: "  reboot: false\n"})
	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s) != "h6=ok" {
		t.Fatalf("%s\n%s", statuses(s), ev.text())
	}
	if got := fileState(t, 5, dest); !strings.HasPrefix(got, sha(smartproxy.Fixed)) {
		t.Errorf("file at the literal path: %s", got)
	}
	if got := tl.SSH(t, 5, "ls /tmp/pwned /tmp/pwned2 2>/dev/null | wc -l"); got != "0" {
		t.Errorf("a path was executed: %s", got)
	}
	rb, ev := rollback(t, inv, inv.Hosts, fleet.ConnectOptions{})
	if statuses(rb) != "h6=rolled-back" || fileState(t, 5, dest) != "missing" {
		t.Errorf("rollback of the new file: %s %s\n%s", statuses(rb), fileState(t, 5, dest), ev.text())
	}
	if got := fileState(t, 5, "/opt/odd dir"); got != "missing" {
		t.Errorf("the directory the run created is still there: %s", got)
	}
}

// TestHeldLockStopsTheRunBeforeAnyChange: a host another run holds is not
// touched (no manifest, no file, the lock left to its owner), the error
// names the holder; once free, a run takes the lock with its first manifest
// save and leaves none behind.
func TestHeldLockStopsTheRunBeforeAnyChange(t *testing.T) {
	labtest.Need(t, tl)
	inv, _ := writeInventory(t, invSpec{hosts: []int{5}, settings: "        TimeoutStopSec: 5s\n", policy: "  reboot: false\n"})
	const owner = "run 20990101_000000 from elsewhere pid 1"
	tl.SSH(t, 5, "mkdir -p /var/lib/fleetfix/lock && echo '"+owner+"' > /var/lib/fleetfix/lock/owner")
	t.Cleanup(func() { _, _ = tl.TrySSH(5, "rm -rf /var/lib/fleetfix/lock") })
	runs := func() string { return tl.SSH(t, 5, "ls /var/lib/fleetfix/runs 2>/dev/null | wc -l") }
	beforeRuns, beforeFile := runs(), fileState(t, 5, "/usr/local/bin/smart-proxy")

	s, ev := rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s) != "h6=failed" || s.Hosts[0].Step != fleet.StepPreflight {
		t.Fatalf("want h6 failed at preflight: %s %s\n%s", statuses(s), s.Hosts[0].Step, ev.text())
	}
	if err := s.Hosts[0].Err(); err == nil || !strings.Contains(err.Error(), "locked by") || !strings.Contains(err.Error(), owner) {
		t.Errorf("error %v: want it to name the lock's holder", err)
	}
	if got := runs(); got != beforeRuns {
		t.Errorf("manifests: %s before, %s after a run that could not lock", beforeRuns, got)
	}
	if got := fileState(t, 5, "/usr/local/bin/smart-proxy"); got != beforeFile {
		t.Errorf("the build changed under a held lock: %s -> %s", beforeFile, got)
	}
	if got := tl.SSH(t, 5, "cat /var/lib/fleetfix/lock/owner"); got != owner {
		t.Errorf("the other run's lock: owner %q, want %q", got, owner)
	}

	tl.SSH(t, 5, "rm -rf /var/lib/fleetfix/lock")
	s, ev = rollout(t, inv, fleet.ConnectOptions{})
	if statuses(s) != "h6=ok" {
		t.Fatalf("once the lock is free: %s\n%s", statuses(s), ev.text())
	}
	if got := tl.SSH(t, 5, "[ -e /var/lib/fleetfix/lock ] && echo held || echo free"); got != "free" {
		t.Errorf("the lock after a finished run: %s", got)
	}
	rb, ev := rollback(t, inv, inv.Hosts, fleet.ConnectOptions{})
	if statuses(rb) != "h6=rolled-back" || fileState(t, 5, "/usr/local/bin/smart-proxy") != beforeFile {
		t.Errorf("rollback: %s %s\n%s", statuses(rb), fileState(t, 5, "/usr/local/bin/smart-proxy"), ev.text())
	}
	if got := tl.SSH(t, 5, "[ -e /var/lib/fleetfix/lock ] && echo held || echo free"); got != "free" {
		t.Errorf("the lock after a rollback: %s", got)
	}
}
