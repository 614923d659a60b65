package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/inventory"
)

// runsHost is a scripted host with the manifests ms, oldest first.
func runsHost(t *testing.T, ms ...*Manifest) *scriptedHost {
	t.Helper()
	byPath := map[string][]byte{}
	var list []string
	for _, m := range ms {
		js, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		byPath[m.remotePath()] = js
		list = append(list, path.Base(m.remotePath()))
	}
	return &scriptedHost{name: "h1", answers: map[string]answer{
		"lock": ok(""), "unlock": ok(""), "rm": rmExisting,
		"list-runs": ok(strings.Join(list, "\n") + "\n"),
		"cat":       func(c call) ([]byte, error) { return byPath[c.args[len(c.args)-1]], nil },
	}}
}

func pruneRun(id, state string) *Manifest {
	const bin = "/usr/local/bin/demo"
	return &Manifest{Schema: ManifestSchema, RunID: id, State: state,
		Changes: []Change{{Path: bin, Existed: true, Backup: bin + ".bak." + id}, {Path: "/etc/x.conf"}}}
}

func TestPrune(t *testing.T) {
	runs := []*Manifest{
		pruneRun("20261101_000000", StateComplete),
		pruneRun("20261102_000000", StateRolledBack),
		pruneRun("20261103_000000", StateFailed),
		pruneRun("20261104_000000", StateComplete),
		pruneRun("20261105_000000", StateComplete),
	}
	removed := func(ids ...string) []string {
		var files []string
		for _, id := range ids {
			files = append(files, "/usr/local/bin/demo.bak."+id, RemoteRunsDir+"/"+id+".summary.json", RemoteRunsDir+"/"+id+".restored", RemoteRunsDir+"/"+id+".json")
		}
		return files
	}
	bad := pruneRun("20261101_000000", StateComplete)
	bad.Changes[0].Backup = "/etc/passwd"
	tests := []struct {
		name   string
		runs   []*Manifest
		keep   int
		dry    bool
		status Status
		rm     []string // the files removed, in order; nil: no rm
		text   string   // in the result's error or an event
	}{
		{name: "keep 2: the older finished runs go, the failed one stays", runs: runs, keep: 2,
			status: StatusOK, rm: removed("20261102_000000", "20261101_000000"), text: "removing run 20261101_000000 (complete): 1 backup(s) and its manifest"},
		{name: "keep 0: every finished run goes", runs: runs, keep: 0,
			status: StatusOK, rm: removed("20261105_000000", "20261104_000000", "20261102_000000", "20261101_000000")},
		{name: "keep 5: nothing to prune", runs: runs, keep: 5, status: StatusUnchanged, text: "nothing to prune: 5 run(s)"},
		{name: "a dry run removes nothing and says what it would", runs: runs, keep: 2, dry: true,
			status: StatusOK, text: "would remove run 20261102_000000 (rolled-back)"},
		{name: "a backup not named as the run's: nothing removed", runs: []*Manifest{bad}, keep: 0,
			status: StatusFailed, text: "records a backup /etc/passwd that is not <path>.bak.<run id>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := runsHost(t, tt.runs...)
			inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1})
			rec := &recorder{}
			var dial Dialer = func(context.Context, inventory.Target) (Host, error) { return h, nil }
			s, err := Prune(context.Background(), PruneOptions{Inventory: inv, Reporter: rec, Dial: dial, Keep: tt.keep, DryRun: tt.dry})
			if err != nil {
				t.Fatal(err)
			}
			res := s.Hosts[0]
			if res.Status != tt.status {
				t.Fatalf("status %s (%s), want %s", res.Status, res.Error, tt.status)
			}
			var rm []string
			for _, c := range h.calls {
				if c.name == "rm" {
					rm = append(rm, c.args[2:]...)
				}
			}
			if !slices.Equal(rm, tt.rm) {
				t.Errorf("removed %v, want %v", rm, tt.rm)
			}
			if want := len(existing(tt.rm)); tt.rm != nil && res.Changed != want {
				t.Errorf("changed %d, want %d: what rm removed, not what it was given", res.Changed, want)
			}
			var said []string
			for _, e := range rec.events {
				said = append(said, e.Message)
			}
			if all := res.Error + "\n" + strings.Join(said, "\n"); !strings.Contains(all, tt.text) {
				t.Errorf("want %q in the outcome:\n%s", tt.text, all)
			}
			if got := h.received(); !tt.dry && (got[0] != "lock" || got[len(got)-1] != "unlock") {
				t.Errorf("host received %v: want the prune under the lock", got)
			}
		})
	}
}

// existing are the files of paths the fake host has: backups and
// manifests, but no run summary and no guard record.
func existing(paths []string) []string {
	var out []string
	for _, p := range paths {
		if !strings.HasSuffix(p, ".summary.json") && !strings.HasSuffix(p, ".restored") {
			out = append(out, p)
		}
	}
	return out
}

// rmExisting answers rm -fv as rm does: a line for each file it removed.
func rmExisting(c call) ([]byte, error) {
	var b strings.Builder
	for _, p := range existing(c.args[2:]) {
		fmt.Fprintf(&b, "removed '%s'\n", p)
	}
	return []byte(b.String()), nil
}
