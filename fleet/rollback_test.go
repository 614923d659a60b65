package fleet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fleetfix/fleetfix/inventory"
)

func sum(s string) string {
	b := sha256.Sum256([]byte(s))
	return hex.EncodeToString(b[:])
}

// filesHost is a scripted host that keeps files as their content's sha256
// by path, answers the preflight script from them, and holds one run's
// manifest. restore and rm change its files as a real host would.
type filesHost struct {
	*scriptedHost
	mu    sync.Mutex
	files map[string]string // path -> sha256; absent: missing
}

const undoRun = "20261125_010000"

func newFilesHost(t *testing.T, m *Manifest, files map[string]string) *filesHost {
	t.Helper()
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	fh := &filesHost{files: files}
	fh.scriptedHost = &scriptedHost{name: "h1", answers: map[string]answer{
		"lock": ok(""), "unlock": ok(""), "save-manifest": ok(""),
		"list-runs": ok(m.RunID + ".json\n"),
		"cat":       ok(string(js)),
		"preflight": fh.preflight,
		"restore":   fh.restore,
		"rm":        fh.rm,
		"systemctl": ok(""),
		"health":    ok(""),
		"backup":    fh.backup,
		// The rollout's restart (restart.bash) and its journal read.
		"restart":         ok("inflight 0 2\nsince 1764000000.000000\nstopped 0 1\n"),
		"restart-journal": ok(""),
		"reload": func(c call) ([]byte, error) {
			return []byte(strings.Repeat("fleetfix-unit\nLoadState=loaded\n", len(c.args))), nil
		},
	}}
	fh.upload = fh.put
	return fh
}

func (fh *filesHost) preflight(c call) ([]byte, error) {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	var b bytes.Buffer
	b.WriteString("fact systemd=yes\nfact journal=persistent\nfact uid=0\n")
	n, err := strconv.Atoi(c.args[1])
	if err != nil {
		return nil, err
	}
	for i := range n {
		fmt.Fprintf(&b, "unit %d\nprop LoadState=loaded\nprop ActiveState=active\n", i)
	}
	for i, pair := range slices.Collect(slices.Chunk(c.args[2+n:], 2)) {
		if s, ok := fh.files[pair[1]]; ok {
			fmt.Fprintf(&b, "stat %d 81ed root root 3\nsha256 %d %s\n", i, i, s)
		} else {
			fmt.Fprintf(&b, "missing %d /\n", i)
		}
		fmt.Fprintf(&b, "avail %d 1000000\n", i)
	}
	return b.Bytes(), nil
}

// backup copies each file to its backup.
func (fh *filesHost) backup(c call) ([]byte, error) {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	for _, tr := range slices.Collect(slices.Chunk(c.args, 3)) {
		fh.files[tr[1]] = fh.files[tr[0]]
	}
	return []byte("made\n"), nil
}

// put writes an upload.
func (fh *filesHost) put(dst string, b []byte) (string, error) {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	fh.files[dst] = sum(string(b))
	return fh.files[dst], nil
}

func (fh *filesHost) restore(c call) ([]byte, error) {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	var out bytes.Buffer
	for i, tr := range slices.Collect(slices.Chunk(c.args, 3)) {
		if fh.files[tr[1]] != tr[2] {
			return out.Bytes(), exitErr{status: 3, stderr: "backup " + tr[1] + " has another sha256"}
		}
		fh.files[tr[0]] = tr[2]
		fmt.Fprintf(&out, "restored %d\n", i)
	}
	return out.Bytes(), nil
}

func (fh *filesHost) rm(c call) ([]byte, error) {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	for _, p := range c.args[2:] {
		delete(fh.files, p)
	}
	return nil, nil
}

// undoManifest is a complete run that replaced the demo build and created a
// drop-in, with the demo unit active before it.
func undoManifest() *Manifest {
	return &Manifest{Schema: ManifestSchema, RunID: undoRun, Host: "h1", State: StateComplete,
		Units: []UnitRecord{{Unit: "demo.service", Props: map[string]string{"ActiveState": "active"}}},
		Changes: []Change{
			{Path: "/usr/local/bin/demo", Kind: "artifact", Existed: true, OldSHA256: sum("old"), NewSHA256: sum("new"),
				OldMode: "0755", OldOwner: "root:root", Backup: "/usr/local/bin/demo.bak." + undoRun, Done: true},
			{Path: "/etc/systemd/system/demo.service.d/override.conf", Kind: "dropin", NewSHA256: sum("dropin"), Done: true},
		}}
}

func TestRollbackIsAllOrNothing(t *testing.T) {
	const bin, bak, dropin = "/usr/local/bin/demo", "/usr/local/bin/demo.bak." + undoRun, "/etc/systemd/system/demo.service.d/override.conf"
	rolledOut := func() map[string]string {
		return map[string]string{bin: sum("new"), bak: sum("old"), dropin: sum("dropin")}
	}
	tests := []struct {
		name  string
		files func(map[string]string)
		force bool
		// status and the error's words; a failed one changed nothing.
		status Status
		errs   []string
		// after is the files when it ends.
		after map[string]string
	}{
		{name: "as rolled out: restored, drop-in removed",
			status: StatusRolledBack, after: map[string]string{bin: sum("old"), bak: sum("old")}},
		{name: "a corrupt backup refuses the host and names it",
			files:  func(f map[string]string) { f[bak] = sum("old\nappended") },
			status: StatusFailed, errs: []string{"nothing changed: backup " + bak + " is " + short(sum("old\nappended")) + ", recorded sha256 " + short(sum("old"))}},
		{name: "a missing backup refuses the host",
			files:  func(f map[string]string) { delete(f, bak) },
			status: StatusFailed, errs: []string{"backup " + bak + " is missing"}},
		{name: "a corrupt backup refuses even with --force",
			files: func(f map[string]string) { f[bak] = sum("x") }, force: true,
			status: StatusFailed, errs: []string{"backup " + bak}},
		{name: "a hotfixed file is refused with its three sha256s",
			files:  func(f map[string]string) { f[bin] = sum("hotfix") },
			status: StatusFailed, errs: []string{bin + " was edited since the run: sha256 old " + short(sum("old")) + ", new " + short(sum("new")) + ", current " + short(sum("hotfix")), "--force"}},
		{name: "an edited created drop-in is refused, not left with a warning",
			files:  func(f map[string]string) { f[dropin] = sum("operator's") },
			status: StatusFailed, errs: []string{dropin + " was edited since the run: sha256 old none (created by the run)"}},
		{name: "--force restores over a hotfix and removes an edited drop-in",
			files: func(f map[string]string) { f[bin], f[dropin] = sum("hotfix"), sum("operator's") }, force: true,
			status: StatusRolledBack, after: map[string]string{bin: sum("old"), bak: sum("old")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := rolledOut()
			if tt.files != nil {
				tt.files(files)
			}
			before := maps.Clone(files)
			h := newFilesHost(t, undoManifest(), files)
			inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1})
			rec := &recorder{}
			s, err := Rollback(context.Background(), RollbackOptions{Inventory: inv, Reporter: rec, Force: tt.force,
				Dial: func(context.Context, inventory.Target) (Host, error) { return h, nil }})
			if err != nil {
				t.Fatal(err)
			}
			res := s.Hosts[0]
			if res.Status != tt.status {
				t.Fatalf("status %s (%s), want %s\n%v", res.Status, res.Error, tt.status, h.received())
			}
			for _, w := range tt.errs {
				if !strings.Contains(res.Error, w) {
					t.Errorf("error %q, want %q in it", res.Error, w)
				}
			}
			if strings.Contains(res.Error, "\n") {
				t.Errorf("error on more than one line: %q", res.Error)
			}
			want := tt.after
			if tt.status == StatusFailed {
				want = before
				for _, c := range []string{"restore", "rm", "systemctl", "health"} {
					if slices.Contains(h.received(), c) {
						t.Errorf("a refused rollback ran %s: %v", c, h.received())
					}
				}
			}
			if got := showFiles(h.files); got != showFiles(want) {
				t.Errorf("files after:\n got %s\nwant %s", got, showFiles(want))
			}
		})
	}
}

// A restore that fails half-way still reloads systemd and restarts the
// units before the error is returned.
func TestRollbackReloadsAfterAFailedRestore(t *testing.T) {
	h := rolledOutHost(t)
	h.answers["restore"] = fails("mv: cannot move: Read-only file system", 1)
	inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1})
	s, err := Rollback(context.Background(), RollbackOptions{Inventory: inv,
		Dial: func(context.Context, inventory.Target) (Host, error) { return h, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if res := s.Hosts[0]; res.Status != StatusFailed || !strings.Contains(res.Error, "restore: exited with status 1") {
		t.Fatalf("result %s: %s", res.Status, res.Error)
	}
	got := h.received()
	i := slices.Index(got, "restore")
	if i < 0 || !slices.Contains(got[i:], "rm") || !slices.Contains(got[i:], "systemctl") || !slices.Contains(got[i:], "health") {
		t.Errorf("after the failed restore the host received %v: want the drop-in removed, daemon-reload and the restart", got[max(i, 0):])
	}
}

// rollBackOne rolls back the latest run on one host.
func rollBackOne(t *testing.T, h Host) (HostResult, *recorder) {
	t.Helper()
	inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1})
	rec := &recorder{}
	s, err := Rollback(context.Background(), RollbackOptions{Inventory: inv, Reporter: rec,
		Dial: func(context.Context, inventory.Target) (Host, error) { return h, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s.Hosts[0], rec
}

// rolledOutHost is a host as undoManifest's run left it.
func rolledOutHost(t *testing.T) *filesHost {
	t.Helper()
	return newFilesHost(t, undoManifest(), map[string]string{
		"/usr/local/bin/demo": sum("new"), "/usr/local/bin/demo.bak." + undoRun: sum("old"),
		"/etc/systemd/system/demo.service.d/override.conf": sum("dropin"),
	})
}

// showFiles shows a file map in a stable order, for comparison.
func showFiles(m map[string]string) string {
	var s []string
	for k, v := range m {
		s = append(s, k+"="+short(v))
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}

// A rollback whose final save fails is a failed rollback, not a rolled-back
// host: the state the save was to record is not the run's until it lands.
func TestRollbackFinalSaveFails(t *testing.T) {
	h := rolledOutHost(t)
	h.answers["save-manifest"] = fails("connection lost", 255)
	res, rec := rollBackOne(t, h)
	if res.Status != StatusFailed || res.Step != StepRollback || !strings.Contains(res.Error, "write manifest") {
		t.Errorf("result %s at %s: %s\n%s", res.Status, res.Step, res.Error, rec.trail("h1"))
	}
}

// runTrail is a stream's events as "host/step:phase" ("*" for run-wide
// ones), informational events left out.
func (r *recorder) runTrail() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, e := range r.events {
		if e.Phase == PhaseInfo {
			continue
		}
		host := e.Host
		if host == "" {
			host = "*"
		}
		s = append(s, host+"/"+string(e.Step)+":"+string(e.Phase))
	}
	return strings.Join(s, " ")
}

// Rollback and prune run their hosts in the events a rollout has: the
// run's start and end, under the command's step, and a host never started
// reported halted; the summary says the run halted.
func TestEachHasTheRunsEvents(t *testing.T) {
	inv := fakeInventory(t, 2, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1})
	nothing := func(context.Context, inventory.Target) (Host, error) {
		return &scriptedHost{name: "h", answers: map[string]answer{"lock": ok(""), "unlock": ok(""), "list-runs": ok("")}}, nil
	}
	closed := make(chan struct{})
	close(closed)
	tests := []struct {
		name   string
		run    func(rec Reporter, halt <-chan struct{}) (*Summary, error)
		halt   <-chan struct{}
		trail  string
		halted bool
	}{
		{"rollback", func(rec Reporter, halt <-chan struct{}) (*Summary, error) {
			return Rollback(context.Background(), RollbackOptions{Inventory: inv, Reporter: rec, Dial: nothing, Halt: halt})
		}, nil, "*/rollback:start h1/rollback:start h1/rollback:skip h2/rollback:start h2/rollback:skip */rollback:done", false},
		{"rollback halted", func(rec Reporter, halt <-chan struct{}) (*Summary, error) {
			return Rollback(context.Background(), RollbackOptions{Inventory: inv, Reporter: rec, Dial: nothing, Halt: halt})
		}, closed, "*/rollback:start h1/rollback:halted h2/rollback:halted */rollback:done", true},
		{"prune halted", func(rec Reporter, halt <-chan struct{}) (*Summary, error) {
			return Prune(context.Background(), PruneOptions{Inventory: inv, Reporter: rec, Dial: nothing, Halt: halt})
		}, closed, "*/prune:start h1/prune:halted h2/prune:halted */prune:done", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			s, err := tt.run(rec, tt.halt)
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.runTrail(); got != tt.trail {
				t.Errorf("events\n got %s\nwant %s", got, tt.trail)
			}
			last := rec.events[len(rec.events)-1]
			if s.Halted != tt.halted || !strings.Contains(last.Message, " finished in ") || strings.Contains(last.Message, "halted: aborted by the operator") != tt.halted {
				t.Errorf("halted %v, end %q", s.Halted, last.Message)
			}
			for _, h := range s.Hosts {
				if tt.halted != (h.Status == StatusNotStarted) {
					t.Errorf("%s %s", h.Host, h.Status)
				}
			}
		})
	}
}

// A command whose context ended starts no host, and says the operator
// stopped it.
func TestEachStoppedStartsNoHost(t *testing.T) {
	inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := &recorder{}
	s, err := Rollback(ctx, RollbackOptions{Inventory: inv, Reporter: rec, Dial: func(context.Context, inventory.Target) (Host, error) {
		t.Error("a host started after the stop")
		return nil, context.Canceled
	}})
	if err != nil {
		t.Fatal(err)
	}
	if last := rec.events[len(rec.events)-1]; !s.Halted || s.Hosts[0].Status != StatusNotStarted || !strings.HasSuffix(last.Message, "halted: stopped by the operator") {
		t.Errorf("halted %v, %s, end %q", s.Halted, s.Hosts[0].Status, last.Message)
	}
}

// A command that cannot start says why on its stream, as its run's fail
// event, and returns the error.
func TestCannotStartIsReported(t *testing.T) {
	inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1})
	tests := []struct {
		step Step
		run  func(rec Reporter) error
		msg  string
	}{
		{StepRun, func(rec Reporter) error {
			_, err := Rollout(context.Background(), Options{Inventory: inv, Reporter: rec})
			return err
		}, "inventory and dialer are required"},
		{StepRun, func(rec Reporter) error {
			_, err := Reboot(context.Background(), Options{Inventory: inv, Reporter: rec, RunID: "today",
				Dial: func(context.Context, inventory.Target) (Host, error) { return nil, errors.New("not dialed") }})
			return err
		}, `run id "today"`},
		{StepRollback, func(rec Reporter) error {
			_, err := Rollback(context.Background(), RollbackOptions{Inventory: inv, Reporter: rec, RunID: "today"})
			return err
		}, `run id "today"`},
		{StepRollback, func(rec Reporter) error {
			_, err := Rollback(context.Background(), RollbackOptions{Inventory: inv, Reporter: rec})
			return err
		}, "inventory and dialer are required"},
		{StepPrune, func(rec Reporter) error {
			_, err := Prune(context.Background(), PruneOptions{Inventory: inv, Reporter: rec, Keep: -1})
			return err
		}, "keep -1"},
		{StepPrune, func(rec Reporter) error {
			_, err := Prune(context.Background(), PruneOptions{Inventory: inv, Reporter: rec})
			return err
		}, "inventory and dialer are required"},
	}
	for _, tt := range tests {
		t.Run(string(tt.step)+" "+tt.msg, func(t *testing.T) {
			rec := &recorder{}
			err := tt.run(rec)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want %q in it", err, tt.msg)
			}
			if got := rec.runTrail(); got != "*/"+string(tt.step)+":fail" || rec.events[0].Message != err.Error() {
				t.Errorf("events %s (%q), want the run's fail with the error", got, rec.events[0].Message)
			}
		})
	}
}
