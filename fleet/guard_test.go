package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// guardSandbox is a directory that stands for a host's root in a run of
// the guard's restore script on this machine: its fixed paths moved under
// dir, systemctl a stub that logs its arguments.
type guardSandbox struct {
	dir, app, backup, dropIn, dropInDir, manifest, lock string
}

func newGuardSandbox(t *testing.T) *guardSandbox {
	t.Helper()
	d := t.TempDir()
	s := &guardSandbox{dir: d, app: d + "/opt/app", backup: d + "/opt/app.bak.R", dropIn: d + "/etc/systemd/system/demo.service.d/10-fix.conf",
		dropInDir: d + "/etc/systemd/system/demo.service.d", manifest: d + RemoteRunsDir + "/20261201_101010.json", lock: d + RemoteLockDir}
	write := func(p, content string, mode os.FileMode) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(s.app, "new build", 0o755)
	write(s.backup, "old build", 0o750)
	write(s.dropIn, "[Service]\n", 0o644)
	write(s.lock+"/owner", "run 20261201_101010 from ctl pid 7\n", 0o600)
	write(s.manifest, "{}", 0o600)
	write(d+"/bin/systemctl", "#!/bin/sh\necho \"$*\" >> "+d+"/systemctl.log\n", 0o755)
	name := guardName("20261201_101010")
	for _, f := range []string{"/etc/systemd/system/" + name + ".timer", "/etc/systemd/system/" + name + ".service", "/etc/systemd/system/timers.target.wants/" + name + ".timer"} {
		write(d+f, "unit\n", 0o644)
	}
	return s
}

// manifest is the run the sandbox's files are the result of.
func (s *guardSandbox) manifest0(backupSum string) *Manifest {
	return &Manifest{Schema: ManifestSchema, RunID: "20261201_101010", Host: "h1", State: StateRunning,
		Units: []UnitRecord{{Unit: "demo.service", Props: map[string]string{"ActiveState": "active"}}, {Unit: "idle.service", Props: map[string]string{"ActiveState": "inactive"}}},
		Changes: []Change{
			{Path: "/opt/app", Kind: "artifact", Existed: true, OldSHA256: backupSum, NewSHA256: sha("new build"), Backup: "/opt/app.bak.R", Done: true},
			{Path: "/etc/systemd/system/demo.service.d/10-fix.conf", Kind: "dropin", NewSHA256: sha("[Service]\n"), CreatedDir: "/etc/systemd/system/demo.service.d", Done: true},
		}}
}

// run writes m as the host's manifest and runs the guard's script written
// from it, with every absolute path moved under the sandbox.
func (s *guardSandbox) run(t *testing.T, m *Manifest) error {
	t.Helper()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.manifest, append(b, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	script := guardScript(m, guardName(m.RunID))
	var moves []string
	for _, p := range []string{"'/opt/", "'/etc/", "'/var/", "/var/lib/fleetfix/", "/etc/systemd/system/"} {
		moves = append(moves, p, strings.Replace(p, "/", s.dir+"/", 1))
	}
	script = strings.NewReplacer(moves...).Replace(script)
	path := filepath.Join(s.dir, "var/lib/fleetfix", guardName(m.RunID)+".sh")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", path)
	cmd.Env = append(os.Environ(), "PATH="+s.dir+"/bin:"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	t.Logf("guard output:\n%s", out)
	return err
}

func (s *guardSandbox) read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The guard's restore, run for real on this machine: what the lab proves
// on a host after a reboot, here with each branch.
func TestGuardScriptRestores(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	tests := []struct {
		name       string
		backupSum  string
		wantApp    string
		wantFailed bool
	}{
		{"restores every change", sha("old build"), "old build", false},
		{"a backup with another sha256 stays out", sha("something else"), "new build", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGuardSandbox(t)
			err := s.run(t, s.manifest0(tt.backupSum))
			if (err != nil) != tt.wantFailed {
				t.Fatalf("guard exit: %v, want failed=%v", err, tt.wantFailed)
			}
			if got := s.read(t, s.app); got != tt.wantApp {
				t.Errorf("app is %q, want %q", got, tt.wantApp)
			}
			if fi, err := os.Stat(s.app); err == nil && !tt.wantFailed && fi.Mode().Perm() != 0o750 {
				t.Errorf("restored app has mode %v, want the backup's 0750", fi.Mode().Perm())
			}
			if _, err := os.Stat(s.dropInDir); !os.IsNotExist(err) {
				t.Errorf("the drop-in directory the run created is still there: %v", err)
			}
			record := s.read(t, strings.TrimSuffix(s.manifest, ".json")+".restored")
			if !strings.HasPrefix(record, "restored_at=") || strings.Contains(record, "failed=0") == tt.wantFailed {
				t.Errorf("record %q", record)
			}
			m, err := decodeManifest([]byte(s.read(t, s.manifest)), "20261201_101010", "h1")
			if err != nil {
				t.Fatal(err)
			}
			if m.State != StateRolledBack || !strings.HasPrefix(m.Note, guardNotePrefix) || strings.HasSuffix(m.Note, ", with failures") != tt.wantFailed || m.Note != guardNote(record) {
				t.Errorf("manifest state %q note %q (record %q)", m.State, m.Note, record)
			}
			if _, err := os.Stat(s.lock); !os.IsNotExist(err) {
				t.Errorf("the dead run's lock is still held: %v", err)
			}
			name := guardName(m.RunID)
			for _, f := range []string{"/etc/systemd/system/" + name + ".timer", "/etc/systemd/system/timers.target.wants/" + name + ".timer", "/var/lib/fleetfix/" + name + ".sh"} {
				if _, err := os.Stat(s.dir + f); !os.IsNotExist(err) {
					t.Errorf("guard file %s left behind: %v", f, err)
				}
			}
			want := "daemon-reload\nrestart -- demo.service\nstop -- idle.service\nstop --quiet -- " + name + ".timer\ndisable --quiet -- " + name + ".timer\ndaemon-reload\n"
			if got := s.read(t, s.dir+"/systemctl.log"); got != want {
				t.Errorf("systemctl calls:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// guardStep is the guard step of hr's rollout when it reboots.
func guardStep(t *testing.T, hr *hostRun) step {
	t.Helper()
	inv := *hr.r.opts.Inventory
	inv.Rollout.Reboot = true
	s, ok := rolloutFlow(Options{Inventory: &inv}).step(StepGuard)
	if !ok {
		t.Fatal("no guard step in a rebooting rollout")
	}
	return s
}

// guardRun is a host run at the guard step on a scripted host.
func guardRun(t *testing.T, h *scriptedHost, rec *recorder) *hostRun {
	t.Helper()
	inv := fakeInventory(t, 1, inventory.DefaultPolicy())
	r, err := newRunner(Options{Inventory: inv, Reporter: rec, Dial: func(context.Context, inventory.Target) (Host, error) { return h, nil }})
	if err != nil {
		t.Fatal(err)
	}
	hr := &hostRun{r: r, ctx: context.Background(), h: h, t: inv.Hosts[0], give: r.share(inv.Hosts[0].Name), facts: &Facts{BootID: "boot-1"},
		m: &Manifest{Schema: ManifestSchema, RunID: "20261201_101010", Host: "h1", State: StateRunning,
			Units: []UnitRecord{{Unit: "demo.service", Props: map[string]string{"ActiveState": "active"}}}}}
	hr.saves.hr = hr
	return hr
}

func TestGuardInstallConfirmDisarm(t *testing.T) {
	installs := func(c call) ([]byte, error) { return []byte(sha(string(c.stdin)) + "\n"), nil }
	tests := []struct {
		name    string
		remove  answer
		confirm bool   // run the confirm step
		wantErr string // of the confirm
		removes string // the guard-remove call's last argument: the boot for a disarm
		guard   string // m.Guard at the end
	}{
		{"confirmed", ok("removed\n"), true, "", "/var/lib/fleetfix/runs/20261201_101010.restored", ""},
		{"the guard fired first", ok("restored restored_at=2026-12-01T10:20:00Z failed=0 boot_id=x\nremoved\n"), true,
			"the guard restored the host at 2026-12-01T10:20:00Z, before fleetfix confirmed the run (confirm_timeout 10m0s)", "/var/lib/fleetfix/runs/20261201_101010.restored", ""},
		{"no reboot: disarmed on the way out", ok("removed\n"), false, "", "boot-1", ""},
		{"rebooted, not confirmed: the guard stays", ok("kept\n"), false, "", "boot-1", guardName("20261201_101010")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &scriptedHost{name: "h1", answers: map[string]answer{"guard-install": installs, "save-manifest": ok(""), "guard-remove": tt.remove}}
			rec := &recorder{}
			hr := guardRun(t, h, rec)
			if _, err := hr.do(guardStep(t, hr)); err != nil || len(rec.events) != 2 || !strings.Contains(rec.events[1].Message, "armed") {
				t.Fatalf("install: %v, %v", rec.events, err)
			}
			ms, _, err := h.saves()
			if err != nil || len(ms) != 1 || ms[0].Guard != guardName("20261201_101010") {
				t.Fatalf("the manifest saved at the install does not name the guard: %+v %v", ms, err)
			}
			c := h.calls[0]
			if c.args[0] != "fleetfix-guard-20261201_101010" || !strings.Contains(c.args[1], "ExecStart=/bin/sh /var/lib/fleetfix/fleetfix-guard-20261201_101010.sh") ||
				!strings.Contains(c.args[2], "OnBootSec=600s\nAccuracySec=1s") || !strings.Contains(string(c.stdin), "'restart' 'demo.service'") {
				t.Errorf("install call %q\n%s", c.args, c.stdin)
			}
			if tt.confirm {
				_, err := hr.confirm(context.Background())
				if got := errString(err); got != tt.wantErr {
					t.Errorf("confirm: %q, want %q", got, tt.wantErr)
				}
			}
			for _, f := range hr.cleanup {
				f()
			}
			last := h.calls[len(h.calls)-1]
			if last.name != "guard-remove" || last.args[len(last.args)-1] != tt.removes || len(h.calls) != 3 {
				t.Errorf("calls %v, last %v: want one guard-remove ending in %q", h.received(), last.args, tt.removes)
			}
			if hr.m.Guard != tt.guard {
				t.Errorf("manifest's guard %q, want %q", hr.m.Guard, tt.guard)
			}
		})
	}
}

// The guard's record is saved before the step is done: a save that fails
// fails the guard step, before its reboot.
func TestGuardSaveFailsTheGuard(t *testing.T) {
	h := &scriptedHost{name: "h1", answers: map[string]answer{
		"guard-install": func(c call) ([]byte, error) { return []byte(sha(string(c.stdin)) + "\n"), nil },
		"save-manifest": fails("No space left on device", 1)}}
	rec := &recorder{}
	hr := guardRun(t, h, rec)
	failed, err := hr.do(guardStep(t, hr))
	if failed != StepGuard || err == nil || !strings.Contains(err.Error(), "No space left on device") || rec.trail("h1") != "guard:start" {
		t.Errorf("guard step: %s, %v; events %s", failed, err, rec.trail("h1"))
	}
}

func TestGuardInstallChecksTheScript(t *testing.T) {
	h := &scriptedHost{name: "h1", answers: map[string]answer{"guard-install": ok(sha("other") + "\n")}}
	hr := guardRun(t, h, &recorder{})
	if _, err := hr.installGuard(context.Background()); err == nil || !strings.Contains(err.Error(), "its script has sha256") {
		t.Errorf("install with a damaged script: %v", err)
	}
	if hr.m.Guard != "" || len(hr.cleanup) != 0 {
		t.Errorf("a failed install records a guard: %q", hr.m.Guard)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// A file the run created in a directory that was there keeps the directory.
func TestGuardScriptOperations(t *testing.T) {
	m := &Manifest{RunID: "20261201_101010", Host: "h1",
		Units: []UnitRecord{{Unit: "demo.service", Props: map[string]string{"ActiveState": "active"}}},
		Changes: []Change{
			{Path: "/usr/local/bin/demo", Existed: true, OldSHA256: "aa", Backup: "/usr/local/bin/demo.bak.20261201_101010", Done: true},
			{Path: "/etc/systemd/system/demo.service.d/override.conf", NewSHA256: "bb", Done: true},
			{Path: "/etc/never-written", NewSHA256: "cc"},
		}}
	script := guardScript(m, guardName(m.RunID))
	head, _, _ := strings.Cut(script, "\n"+scriptGuardRestore.body)
	want := "set -- '20261201_101010' '/var/lib/fleetfix/runs/20261201_101010.json' '/var/lib/fleetfix/runs/20261201_101010.restored' 'fleetfix-guard-20261201_101010' '/var/lib/fleetfix/lock' \\\n" +
		"  'remove' '/etc/systemd/system/demo.service.d/override.conf' 'bb' \\\n" +
		"  'restore' '/usr/local/bin/demo' '/usr/local/bin/demo.bak.20261201_101010' 'aa' \\\n" +
		"  'reload' \\\n  'restart' 'demo.service'"
	if !strings.HasSuffix(head, want) {
		t.Errorf("guard script starts\n%s\nwant it to end with\n%s", head, want)
	}
}

// TestGuardRestoredHostStaysRolledBack: a confirm that finds the guard put
// the host back fails the host, and the run's last save keeps the state
// the confirm set, rolled-back, so that no later rollback undoes the run
// again; the host is reported rolled-back at the confirm, or cancelled
// when the operator stopped the run meanwhile.
func TestGuardRestoredHostStaysRolledBack(t *testing.T) {
	for _, tt := range []struct {
		name   string
		stop   bool // the operator stops the run during the confirm
		status Status
	}{{"failed at the confirm", false, StatusRolledBack}, {"stopped during the confirm", true, StatusCancelled}} {
		t.Run(tt.name, func(t *testing.T) { checkGuardRestored(t, tt.stop, tt.status) })
	}
}

func checkGuardRestored(t *testing.T, stop bool, status Status) {
	t.Helper()
	inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1, Reboot: true, ConfirmTimeout: 10 * time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := outdatedHost("h1")
	h.answers["guard-install"] = func(c call) ([]byte, error) { return []byte(sha(string(c.stdin)) + "\n"), nil }
	h.answers["guard-remove"] = func(call) ([]byte, error) {
		if stop {
			cancel()
		}
		return []byte("restored restored_at=2026-12-01T10:20:00Z failed=0 boot_id=x\nremoved\n"), nil
	}
	rec := &recorder{}
	r, err := newRunner(Options{Inventory: inv, Reporter: rec, Dial: func(context.Context, inventory.Target) (Host, error) { return h, nil }})
	if err != nil {
		t.Fatal(err)
	}
	f := rolloutFlow(r.opts)
	f.steps = slices.DeleteFunc(f.steps, func(s step) bool {
		return !slices.Contains([]Step{StepConnect, StepPreflight, StepGuard, StepConfirm}, s.name)
	})
	res := r.roll(ctx, r.work(f)).Hosts[0]
	if res.Status != status || res.Step != StepConfirm || !strings.Contains(res.Error, "the guard restored the host at 2026-12-01T10:20:00Z") {
		t.Errorf("result %s at %s: %s, want %s\n%s", res.Status, res.Step, res.Error, status, rec.trail("h1"))
	}
	ms, locks, err := h.saves()
	if err != nil {
		t.Fatal(err)
	}
	if last := ms[len(ms)-1]; last.State != StateRolledBack || last.Note != guardNotePrefix+"2026-12-01T10:20:00Z" || locks[len(locks)-1] != "unlock" {
		t.Errorf("last save: state %s, note %q, lock %q; want rolled-back, the guard's note, the lock released", last.State, last.Note, locks[len(locks)-1])
	}
}
