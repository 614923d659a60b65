package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
)

func TestProcStartIsThisProcess(t *testing.T) {
	self := thisController()
	if self.start == "" || self.pid != os.Getpid() {
		t.Skipf("no /proc here: %+v", self)
	}
	if st, err := procStart(self.pid); err != nil || st != self.start {
		t.Errorf("procStart(self) = %q, %v; want %q", st, err, self.start)
	}
	if _, err := procStart(1 << 30); err == nil {
		t.Error("procStart of a pid above pid_max found a process")
	}
}

func TestHolderStale(t *testing.T) {
	self := controller{host: "ops1", pid: 100, start: "5000", boot: "boot-a"}
	now := time.Unix(1_800_000_000, 0)
	// Processes on "this machine": pid 100 (started at 5000) and 200.
	procs := map[int]string{100: "5000", 200: "7000"}
	lookup := func(pid int) (string, error) {
		if st, ok := procs[pid]; ok {
			return st, nil
		}
		return "", os.ErrNotExist
	}
	live := now.Add(time.Minute)
	tests := []struct {
		name string
		h    Holder
		want string // "" = not stale
	}{
		{"this machine, process alive, lease live", Holder{RunID: "20261201_081502", Controller: "ops1", PID: 200, start: "7000", boot: "boot-a", Expires: live}, ""},
		{"this machine, process gone", Holder{RunID: "20261201_081502", Controller: "ops1", PID: 300, start: "7000", boot: "boot-a", Expires: live}, "is gone"},
		{"this machine, pid reused by another process", Holder{RunID: "20261201_081502", Controller: "ops1", PID: 200, start: "6999", boot: "boot-a", Expires: live}, "is gone"},
		{"this machine rebooted since", Holder{RunID: "20261201_081502", Controller: "ops1", PID: 200, start: "7000", boot: "boot-0", Expires: live}, "is gone"},
		{"another machine, lease live", Holder{RunID: "20261201_081502", Controller: "ops2", PID: 300, start: "1", boot: "boot-b", Expires: live}, ""},
		{"another machine, lease expired", Holder{RunID: "20261201_081502", Controller: "ops2", PID: 300, start: "1", boot: "boot-b", Expires: now.Add(-time.Second)}, "lease expired"},
		{"another machine, no lease (an older fleetfix)", Holder{RunID: "20261201_081502", Controller: "ops2", PID: 300}, ""},
		{"a lock not in fleetfix's form", Holder{Expires: now.Add(-time.Hour)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.h.Now = now
			got := tt.h.stale(self, lookup)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("stale = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseHolder(t *testing.T) {
	self := controller{host: "ops1", pid: 26139, start: "12345", boot: "b-1"}
	out := "owner " + self.owner("20261201_081502", "20261130_100000") + "\nlease 1800000000 1800000120\nnow 1800000200\n"
	h, err := parseHolder([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := Holder{RunID: "20261201_081502", Manifest: "20261130_100000", Controller: "ops1", PID: 26139,
		Since: time.Unix(1800000000, 0), Expires: time.Unix(1800000120, 0), Now: time.Unix(1800000200, 0),
		start: "12345", boot: "b-1", line: self.owner("20261201_081502", "20261130_100000")}
	if *h != want {
		t.Errorf("parsed\n %+v\nwant\n %+v", *h, want)
	}
	if !h.Expired() || !strings.Contains(h.String(), "run 20261201_081502 (controller ops1 pid 26139, since 2027-01-15T08:00:00Z, lease expired 1m20s ago)") {
		t.Errorf("expired %v, %s", h.Expired(), h)
	}
	if h, err := parseHolder(nil); h != nil || err != nil {
		t.Errorf("no lock: %v, %v", h, err)
	}
	if _, err := parseHolder([]byte("owner x\nbogus\n")); err == nil {
		t.Error("an unexpected line was accepted")
	}
	old, _ := parseHolder([]byte("owner run 20261201_081502 from ops1 pid 1\nnow 5\n"))
	if old.RunID != "" || !strings.Contains(old.String(), "unknown run") {
		t.Errorf("an older fleetfix's lock: %+v %s", old, old)
	}
}

// lockShell runs a lock script as the host would, on a lock under dir.
func lockShell(t *testing.T, s script, args ...string) (string, int) {
	t.Helper()
	argv := s.argv(args)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestLockScripts runs the lock's scripts in a shell: take, refuse, take
// over only from the stale owner named, renew, show, release.
func TestLockScripts(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := filepath.Join(t.TempDir(), "fleetfix", "lock")
	a, b, c := "run 20261201_000001 controller x pid 1", "run 20261201_000002 controller x pid 2", "run 20261201_000003 controller x pid 3"
	run := func(s script, args ...string) (string, int) { return lockShell(t, s, args...) }
	if out, code := run(scriptLock, dir, a, "120"); code != 0 {
		t.Fatalf("take: %d %s", code, out)
	}
	if out, code := run(scriptLock, dir, b, "120"); code != lockedStatus || !strings.Contains(out, a) {
		t.Errorf("take a held lock: %d %q, want %d naming its owner", code, out, lockedStatus)
	}
	if _, code := run(scriptLock, dir, b, "120", c); code != lockedStatus {
		t.Errorf("took over from %q, which does not hold the lock: %d", c, code)
	}
	out, _ := run(scriptLockShow, dir)
	h, err := parseHolder([]byte(out))
	if err != nil || h == nil || h.line != a || h.Expires.Sub(h.Since) != 120*time.Second || h.Now.IsZero() {
		t.Fatalf("show: %+v %v from %q", h, err, out)
	}
	if out, code := run(scriptLockRenew, dir, b, "600"); code != lockedStatus {
		t.Errorf("renewed by another owner: %d %s", code, out)
	}
	if out, code := run(scriptLockRenew, dir, a, "600"); code != 0 {
		t.Errorf("renew: %d %s", code, out)
	}
	if out, code := run(scriptLockRenew, dir, a, "1"); code != 0 {
		t.Errorf("renew: %d %s", code, out)
	}
	out, _ = run(scriptLockShow, dir)
	if h2, _ := parseHolder([]byte(out)); h2.Since != h.Since || h2.Expires.Sub(h2.Now) < 590*time.Second {
		t.Errorf("after renewals: %+v, want since kept and the longer expiry kept", h2)
	}
	if out, code := run(scriptLock, dir, b, "120", a); code != 0 {
		t.Fatalf("take over: %d %s", code, out)
	}
	if _, code := run(scriptUnlock, dir, a); code != 0 {
		t.Error("release by the old owner failed")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("the old owner's release removed the new owner's lock: %v", err)
	}
	if _, code := run(scriptUnlock, dir, b); code != 0 {
		t.Error("release failed")
	}
	if out, _ := run(scriptLockShow, dir); out != "" {
		t.Errorf("show after release: %q", out)
	}
}

// TestCleanTempsScript runs clean-temps.sh in a shell: only the named runs'
// temporaries beside each path go.
func TestCleanTempsScript(t *testing.T) {
	dir := t.TempDir()
	hex := "0123456789abcdef"
	files := map[string]bool{ // name -> removed
		".app.fleetfix-tmp-20261201_081502-" + hex:           true,
		".app.fleetfix-tmp-20261130_100000-" + hex:           true, // the run that resumed it
		".a*b.fleetfix-tmp-20261201_081502-" + hex:           true,
		".app.fleetfix-tmp-20261201_081503-" + hex:           false, // another run
		".app.fleetfix-tmp-" + hex:                           false, // no tag
		".app.fleetfix-tmp-20261201_081502-0123456789":       false, // not 16 hex
		".app.fleetfix-tmp-20261201_081502-0123456789abcdeg": false,
		".other.fleetfix-tmp-20261201_081502-" + hex:         false, // another file
		".axb.fleetfix-tmp-20261201_081502-" + hex:           false, // "*" is not a glob
		"app": false,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, code := lockShell(t, scriptCleanTemps, "2", "20261201_081502", "20261130_100000", dir+"/app", dir+"/a*b", dir+"/missing/x")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var want []string
	for name, removed := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if removed != os.IsNotExist(err) {
			t.Errorf("%s: removed %v, want %v", name, os.IsNotExist(err), removed)
		}
		if removed {
			want = append(want, "removed "+filepath.Join(dir, name))
		}
	}
	got := strings.Fields(strings.ReplaceAll(out, "removed ", "removed_"))
	for i := range got {
		got[i] = strings.Replace(got[i], "removed_", "removed ", 1)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("said\n %q\nwant\n %q", got, want)
	}
}

// staleLockHost is an outdated host whose lock run 20261130_100000 holds,
// from controller, with its lease expired or not; that run's manifest says
// running.
func staleLockHost(t *testing.T, holder controller, expired bool) *scriptedHost {
	t.Helper()
	h := outdatedHost("h1")
	old := "20261130_100000"
	owner := holder.owner(old, old)
	exp := "1800000300"
	if expired {
		exp = "1800000100"
	}
	h.answers["lock-show"] = ok(fmt.Sprintf("owner %s\nlease 1800000000 %s\nnow 1800000200\n", owner, exp))
	h.answers["save-manifest"] = func(c call) ([]byte, error) {
		if len(c.args) > 2 && c.args[2] == "lock" && (len(c.args) < 7 || c.args[6] != owner) {
			return []byte("held"), exitErr{status: lockedStatus, stderr: "held"}
		}
		return nil, nil
	}
	h.answers["cat"] = ok(fmt.Sprintf(`{"schema":1,"run_id":%q,"host":"h1","state":"running"}`, old))
	return h
}

func TestRolloutTakesOverAStaleLock(t *testing.T) {
	self := thisController()
	gone := self
	gone.start = "1" // this machine, this pid, another process: gone
	tests := []struct {
		name    string
		holder  controller
		expired bool
		took    string // "" = refused
	}{
		{"its controller is gone", gone, false, "its controller (pid"},
		{"its lease expired", controller{host: "elsewhere", pid: 1, start: "1", boot: "x"}, true, "its lease expired"},
		{"live elsewhere: refused", controller{host: "elsewhere", pid: 1, start: "1", boot: "x"}, false, ""},
		{"live here: refused", self, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := staleLockHost(t, tt.holder, tt.expired)
			res, rec := rollOne(t, h, nil)
			ms, locks, err := h.saves()
			if err != nil {
				t.Fatal(err)
			}
			if tt.took == "" {
				if res.Status != StatusFailed || res.Step != StepPreflight || !strings.Contains(res.Error, "locked") ||
					!strings.Contains(res.Error, "run 20261130_100000 (controller "+tt.holder.host) || !strings.Contains(res.Error, "fleetfix unlock h1") {
					t.Errorf("result %s at %s: %s", res.Status, res.Step, res.Error)
				}
				if slices.Contains(h.received(), "backup") || len(ms) > 0 && ms[len(ms)-1].State == StateInterrupted {
					t.Errorf("went on without the lock: %v", h.received())
				}
				return
			}
			if res.Status != StatusOK {
				t.Fatalf("result %s at %s: %s\n%s", res.Status, res.Step, res.Error, rec.trail("h1"))
			}
			var warned string
			for _, e := range rec.events {
				if e.Warning && strings.Contains(e.Message, "took over") {
					warned = e.Message
				}
			}
			if !strings.Contains(warned, "from run 20261130_100000 (controller "+tt.holder.host) || !strings.Contains(warned, tt.took) || !strings.Contains(warned, "marked interrupted") {
				t.Errorf("warning %q", warned)
			}
			// The first lock attempt, the takeover with this run's first
			// save, then the old run's manifest marked interrupted.
			if len(ms) < 3 || locks[0] != "lock" || locks[1] != "lock" || ms[2].RunID != "20261130_100000" || ms[2].State != StateInterrupted || locks[2] != "" {
				for i, m := range ms {
					t.Logf("save %d: run %s state %s lock %q", i, m.RunID, m.State, locks[i])
				}
				t.Error("want: a refused lock, the takeover, the old run marked interrupted")
			}
		})
	}
}

// TestResumeRemovesTheRunsTemporaries: a run resumed (here an interrupted
// one, which a rollout resumes like a failed one) has its uploads'
// leftovers removed once the lock is held, and the removal said.
func TestResumeRemovesTheRunsTemporaries(t *testing.T) {
	h := outdatedHost("h1")
	// The same work as this inventory's (a resume continues only that).
	sum := sha256.Sum256([]byte("new build"))
	prev := fmt.Sprintf(`{"schema":1,"run_id":"20261130_100000","host":"h1","state":"interrupted","resumed_by":["20261130_110000"],"changes":[{"path":"/usr/local/bin/demo","kind":"artifact","new_sha256":%q,"done":false}]}`, hex.EncodeToString(sum[:]))
	pre := h.answers["preflight"]
	h.answers["preflight"] = func(c call) ([]byte, error) {
		out, err := pre(c)
		return append(out, fmt.Sprintf("run 20261130_100000\nmanifest %s\n", base64.StdEncoding.EncodeToString([]byte(prev)))...), err
	}
	h.answers["clean-temps"] = ok("removed /usr/local/bin/.demo.fleetfix-tmp-20261130_100000-0123456789abcdef\n")
	res, rec := rollOne(t, h, nil)
	if res.Status != StatusOK || res.RunID != "20261130_100000" {
		t.Fatalf("result %+v", res)
	}
	var args []string
	for _, c := range h.calls {
		if c.name == "clean-temps" {
			args = c.args
		}
	}
	if want := []string{"3", "20261130_100000", "20261130_110000", res.RunID}; len(args) < 4 || !slices.Equal(args[:3], want[:3]) || args[4] != "/usr/local/bin/demo" {
		t.Errorf("clean-temps %q, want the run, the runs that resumed it, this one, then the paths", args)
	}
	if i, j := slices.Index(h.received(), "clean-temps"), slices.Index(h.received(), "save-manifest"); i < j {
		t.Errorf("temporaries removed before the lock was held: %v", h.received())
	}
	said := false
	for _, e := range rec.events {
		said = said || e.Phase == PhaseInfo && strings.Contains(e.Message, "removed 1 temporary file(s)") && strings.Contains(e.Message, ".demo.fleetfix-tmp-20261130_100000-")
	}
	if !said {
		t.Error("the removal was not said")
	}
}

func TestLeaseRenewedUntilStopped(t *testing.T) {
	for _, lost := range []bool{false, true} {
		h := &scriptedHost{name: "h1", answers: map[string]answer{"lock-renew": ok("")}}
		if lost {
			h.answers["lock-renew"] = fails("taken", lockedStatus)
		}
		rec := &recorder{}
		hr := &hostRun{r: &runner{rep: rec, lease: 30 * time.Millisecond}, ctx: context.Background(), h: h, owner: "me",
			t: inventory.Target{Name: "h1"}}
		stop := hr.renewLease()
		time.Sleep(150 * time.Millisecond)
		stop()
		n := len(h.received())
		time.Sleep(50 * time.Millisecond)
		if len(h.received()) != n {
			t.Errorf("renewed after the stop: %v", h.received())
		}
		switch {
		case !lost && n < 2:
			t.Errorf("%d renewals in 5 periods", n)
		case !lost && !slices.Equal(h.calls[0].args, []string{RemoteLockDir, "me", "1"}):
			t.Errorf("renewal args %q", h.calls[0].args)
		case lost && (n != 1 || len(rec.events) != 1 || !rec.events[0].Warning):
			t.Errorf("a lock taken from the run: %d renewals, events %+v; want one, and a warning", n, rec.events)
		}
	}
}

// TestLockLeaseFromThePolicy: the lock a rollout takes carries the
// inventory's rollout.lock_lease, and a policy without one (built by hand)
// the default.
func TestLockLeaseFromThePolicy(t *testing.T) {
	for _, tt := range []struct {
		lease time.Duration
		want  string
	}{
		{0, "120"},
		{45 * time.Second, "45"},
	} {
		h := outdatedHost("h1")
		inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1, LockLease: tt.lease})
		if _, err := Rollout(context.Background(), Options{Inventory: inv, Reporter: &recorder{},
			Dial: func(context.Context, inventory.Target) (Host, error) { return h, nil }}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range h.calls {
			if c.name == "save-manifest" && len(c.args) > 5 && c.args[2] == string(takeLock) {
				got = append(got, c.args[5])
			}
		}
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("lock_lease %s: the lock was taken with leases %q, want [%s]", tt.lease, got, tt.want)
		}
	}
}

// A rollback takes over the lock of a controller that is gone, as a
// rollout does, the runner taking it after the connect; the warning is the
// rollback's, the step it is reported as.
func TestRollbackTakesOverAStaleLock(t *testing.T) {
	gone := thisController()
	gone.start = "1"
	h := staleLockHost(t, gone, false)
	owner := gone.owner("20261130_100000", "20261130_100000")
	h.answers["lock"] = func(c call) ([]byte, error) {
		if len(c.args) < 4 || c.args[3] != owner {
			return []byte("held"), exitErr{status: lockedStatus, stderr: "held"}
		}
		return nil, nil
	}
	h.answers["list-runs"] = ok("20261130_100000.json\n")
	res, rec := rollBackOne(t, h)
	var warned Event
	for _, e := range rec.events {
		if e.Warning && strings.Contains(e.Message, "took over") {
			warned = e
		}
	}
	if res.Status != StatusUnchanged || warned.Step != StepRollback || !strings.Contains(warned.Message, "marked interrupted") {
		t.Errorf("result %s (%s); warning at %s: %q\n%v", res.Status, res.Error, warned.Step, warned.Message, h.received())
	}
}
