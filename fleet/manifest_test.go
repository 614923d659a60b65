package fleet

import (
	"testing"
)

func TestManifestForResume(t *testing.T) {
	earlier := func(done ...bool) *Manifest {
		m := &Manifest{RunID: "20261125_010000", State: StateFailed}
		for i, path := range []string{"/usr/local/bin/app", "/etc/systemd/system/app.service.d/override.conf"} {
			m.Changes = append(m.Changes, Change{Path: path, Existed: i == 0, OldSHA256: "old" + path, Backup: path + ".bak.20261125_010000", NewSHA256: "new" + path, Done: done[i]})
		}
		return m
	}
	app := Change{Path: "/usr/local/bin/app", Existed: true, OldSHA256: "someone-else", Backup: "/usr/local/bin/app.bak.20261125_020000", NewSHA256: "new/usr/local/bin/app"}
	dropin := Change{Path: "/etc/systemd/system/app.service.d/override.conf", NewSHA256: "new/etc/systemd/system/app.service.d/override.conf"}
	tests := []struct {
		name    string
		prev    *Manifest
		changes []Change // this run's preflight
		want    []Change // path, done, old sha, backup
	}{
		{
			name: "both written, both recorded: nothing left to change",
			prev: earlier(true, true), changes: nil,
			want: []Change{{Path: app.Path, Done: true, OldSHA256: "old" + app.Path, Backup: app.Path + ".bak.20261125_010000"}, {Path: dropin.Path, Done: true, OldSHA256: "old" + dropin.Path, Backup: dropin.Path + ".bak.20261125_010000"}},
		},
		{
			// Cut off between writing the drop-in and recording it.
			name: "written but not recorded: kept as done",
			prev: earlier(true, false), changes: nil,
			want: []Change{{Path: app.Path, Done: true, OldSHA256: "old" + app.Path, Backup: app.Path + ".bak.20261125_010000"}, {Path: dropin.Path, Done: true, OldSHA256: "old" + dropin.Path, Backup: dropin.Path + ".bak.20261125_010000"}},
		},
		{
			name: "never written: this run writes it, with its own preflight values",
			prev: earlier(false, false), changes: []Change{app},
			want: []Change{{Path: app.Path, OldSHA256: "someone-else", Backup: app.Backup}, {Path: dropin.Path, Done: true, OldSHA256: "old" + dropin.Path, Backup: dropin.Path + ".bak.20261125_010000"}},
		},
		{
			// Written by the earlier run, then changed by someone else: the
			// original is still the earlier run's backup.
			name: "written, then changed by hand: the earlier backup is the original",
			prev: earlier(true, true), changes: []Change{app},
			want: []Change{{Path: app.Path, OldSHA256: "old" + app.Path, Backup: app.Path + ".bak.20261125_010000"}, {Path: dropin.Path, Done: true, OldSHA256: "old" + dropin.Path, Backup: dropin.Path + ".bak.20261125_010000"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &runner{runID: "20261125_020000"}
			m := r.manifestFor("h1", &Facts{Changes: tt.changes, Resume: tt.prev})
			if m.RunID != tt.prev.RunID || m.State != StateRunning {
				t.Errorf("manifest %s %s, want the resumed %s running", m.RunID, m.State, tt.prev.RunID)
			}
			if len(m.Changes) != len(tt.want) {
				t.Fatalf("%d changes, want %d: %+v", len(m.Changes), len(tt.want), m.Changes)
			}
			for i, w := range tt.want {
				g := m.Changes[i]
				if g.Path != w.Path || g.Done != w.Done || g.OldSHA256 != w.OldSHA256 || g.Backup != w.Backup {
					t.Errorf("change %d = %s done=%v old=%s backup=%s, want %s done=%v old=%s backup=%s",
						i, g.Path, g.Done, g.OldSHA256, g.Backup, w.Path, w.Done, w.OldSHA256, w.Backup)
				}
			}
		})
	}
}
