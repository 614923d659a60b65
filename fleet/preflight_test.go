package fleet

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/inventory"
)

func TestParseHostState(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	targets := []fileTarget{
		{Kind: "artifact", Path: "/opt/app/app.py"},
		{Kind: "dropin", Path: "/etc/systemd/system/app.service.d/override.conf"},
	}
	manifest := base64.StdEncoding.EncodeToString([]byte(`{"schema":1,"run_id":"20261124_010203","state":"failed"}`))
	good := "fact systemd=yes\nfact uid=0\nfact boot_id=x=y\n" +
		"unit 0\nprop LoadState=loaded\nprop Description=a=b unit\n" +
		"stat 0 81ed app app 120\nsha256 0 " + sum + "\navail 0 2048\n" +
		"missing 1 /etc/systemd/system\navail 1 4096\n" +
		"run 20261123_000000\nrun 20261124_010203\nmanifest " + manifest + "\n"

	st, err := parseHostState([]byte(good), 1, targets)
	if err != nil {
		t.Fatal(err)
	}
	if st.facts["boot_id"] != "x=y" || st.units[0].props["Description"] != "a=b unit" {
		t.Errorf("facts %v, props %v", st.facts, st.units[0].props)
	}
	f0, f1 := st.files[0], st.files[1]
	if !f0.info.Exists || f0.info.SHA256 != sum || f0.info.Owner != "app" || f0.info.Size != 120 || f0.availKiB != 2048 || octalMode(f0.info.Mode) != "0755" {
		t.Errorf("file 0: %+v", f0)
	}
	if f1.info.Exists || f1.ancestor != "/etc/systemd/system" || f1.availKiB != 4096 {
		t.Errorf("file 1: %+v", f1)
	}
	m, err := st.newestManifest("h1")
	if err != nil || m.RunID != "20261124_010203" || m.State != StateFailed {
		t.Errorf("newest manifest %+v, %v", m, err)
	}
	r := &runner{runID: "20261124_020000"}
	c, err := r.compare(fileTarget{Kind: "dropin", Path: targets[1].Path, Content: []byte("[Service]\n")}, f1)
	if err != nil || c.CreatedDir != "/etc/systemd/system/app.service.d" || c.Existed || c.Diff != "+[Service]\n" {
		t.Errorf("compare: %+v, %v", c, err)
	}

	bad := []struct{ name, out, want string }{
		{"unknown line", good + "surprise 1\n", "unexpected line"},
		{"index out of range", good + "avail 2 1\n", "bad index"},
		{"negative index", good + "avail -1 1\n", "bad index"},
		{"property before its unit", "prop A=b\n" + good, "property before its unit"},
		{"a file not answered", strings.Replace(good, "missing 1 /etc/systemd/system\n", "", 1), "no answer for " + targets[1].Path},
		{"a unit not answered", strings.Replace(good, "unit 0\n", "", 1), "property before its unit"},
		{"bad checksum", strings.Replace(good, sum, "xyz", 1), "unexpected checksum"},
		{"regular file without checksum", strings.Replace(good, "sha256 0 "+sum+"\n", "", 1), "no checksum"},
		{"bad free space", strings.Replace(good, "avail 0 2048", "avail 0 lots", 1), "free space of /opt/app/app.py"},
		{"bad run id", good + "run 2026\n", "bad run id"},
		{"bad content", good + "content 1 !!!\n", "content of"},
	}
	if _, err := parseHostState([]byte(good), 2, targets); err == nil || !strings.Contains(err.Error(), "no answer for unit 1") {
		t.Errorf("two units, one answered: err = %v", err)
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseHostState([]byte(tt.out), 1, targets)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// A resume continues only the same work: an unfinished run that changed
// other files, or other content, fails the preflight before any change and
// offers its rollback.
func TestResumeOnlyTheSameChanges(t *testing.T) {
	const run = "20261125_010000"
	demo := Change{Path: "/usr/local/bin/demo", Kind: "artifact", Existed: true, OldSHA256: sum("old"), NewSHA256: sum("new build"),
		OldMode: "0755", OldOwner: "root:root", Backup: "/usr/local/bin/demo.bak." + run, Done: true}
	big := Change{Path: "/opt/big/c", Kind: "artifact", NewSHA256: sum("c")}
	other := demo
	other.NewSHA256 = sum("another build")
	tests := []struct {
		name    string
		changes []Change
		errText []string // "" resumes
	}{
		{name: "the same change: resumed", changes: []Change{demo}},
		{name: "a file not in this inventory", changes: []Change{demo, big},
			errText: []string{"unfinished run " + run + " (failed) made other changes than this inventory: /opt/big/c is not in this inventory",
				"fleetfix rollback -i inv.yaml --run " + run + " h1"}},
		{name: "another build for the same file", changes: []Change{other},
			errText: []string{"/usr/local/bin/demo: the run writes sha256 " + short(sum("another build")) + ", this inventory " + short(sum("new build"))}},
		{name: "a file this inventory changes that the run did not", changes: nil,
			errText: []string{"/usr/local/bin/demo is not in the run"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := &Manifest{Schema: ManifestSchema, RunID: run, Host: "h1", State: StateFailed, Changes: tt.changes}
			js, err := json.Marshal(prev)
			if err != nil {
				t.Fatal(err)
			}
			h := outdatedHost("h1")
			pre := h.answers["preflight"]
			h.answers["preflight"] = func(c call) ([]byte, error) {
				out, err := pre(c)
				return append(out, "run "+run+"\nmanifest "+base64.StdEncoding.EncodeToString(js)+"\n"...), err
			}
			inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1})
			inv.Path = "inv.yaml"
			rec := &recorder{}
			s, err := Rollout(context.Background(), Options{Inventory: inv, Reporter: rec,
				Dial: func(context.Context, inventory.Target) (Host, error) { return h, nil }})
			if err != nil {
				t.Fatal(err)
			}
			res := s.Hosts[0]
			if tt.errText == nil {
				if res.Status != StatusOK || res.RunID != run {
					t.Errorf("result %s run %s (%s), want the run %s resumed", res.Status, res.RunID, res.Error, run)
				}
				return
			}
			if res.Status != StatusFailed || res.Step != StepPreflight {
				t.Fatalf("result %s at %s: %s", res.Status, res.Step, res.Error)
			}
			for _, w := range tt.errText {
				if !strings.Contains(res.Error, w) {
					t.Errorf("error %q, want %q in it", res.Error, w)
				}
			}
			if got := h.received(); !slices.Equal(got, []string{"preflight"}) {
				t.Errorf("host received %v: want nothing after the preflight", got)
			}
		})
	}
}

func TestCheckFreeSpace(t *testing.T) {
	const mib = 1 << 20
	newFile := func(p string) Change { return Change{Path: p, NewSize: mib} }
	tests := []struct {
		name    string
		changes []Change
		at      []fileState
		wantErr string
	}{
		// Three 1 MiB artifacts, 3.5 MiB free: each fits alone, not all
		// three with the margin (the push that failed 93 % full).
		{name: "summed per filesystem",
			changes: []Change{newFile("/opt/a"), newFile("/opt/b"), newFile("/opt/c")},
			at:      []fileState{{availKiB: 3584, dev: "2049"}, {availKiB: 3584, dev: "2049"}, {availKiB: 3584, dev: "2049"}},
			wantErr: "not enough free space for /opt/a, /opt/b, /opt/c: 3670016 bytes available, 4194304 needed"},
		{name: "on separate filesystems each fits",
			changes: []Change{newFile("/opt/a"), newFile("/srv/b"), newFile("/var/c")},
			at:      []fileState{{availKiB: 3584, dev: "1"}, {availKiB: 3584, dev: "2"}, {availKiB: 3584, dev: "3"}}},
		{name: "backups count",
			changes: []Change{{Path: "/opt/a", NewSize: mib, OldSize: 2 * mib}},
			at:      []fileState{{availKiB: 3584, dev: "1"}},
			wantErr: "4194304 needed"},
		{name: "filesystem not known: each file alone",
			changes: []Change{newFile("/opt/a"), newFile("/opt/b")},
			at:      []fileState{{availKiB: 2048}, {availKiB: 2048}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkFreeSpace(tt.changes, tt.at)
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("checkFreeSpace = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestPreflightChecksNewFiles(t *testing.T) {
	targets := []fileTarget{
		{Kind: "artifact", Path: "/opt/app/app.py", Owner: "root:nosuchgroup"},
		{Kind: "dropin", Path: "/etc/systemd/system/app.service.d/override.conf", Content: []byte("[Service]\n"), Owner: "root:root"},
		{Kind: "artifact", Path: "/opt/app/lib.py"},
	}
	wants := []string{"owner=root:nosuchgroup", "content,verify=" + base64.StdEncoding.EncodeToString([]byte("[Service]\n")) + ",owner=root:root", "-"}
	for i, tg := range targets {
		if got := tg.wants(); got != wants[i] {
			t.Errorf("wants(%s) = %q, want %q", tg.Path, got, wants[i])
		}
	}
	tests := []struct {
		name, answer, wantErr string
	}{
		{"no group", "no-group 0 nosuchgroup\n", "owner root:nosuchgroup of /opt/app/app.py: no group nosuchgroup on the host"},
		{"no user nor group", "no-user 0 root\nno-group 0 nosuchgroup\n", "no user root and no group nosuchgroup on the host"},
		{"systemd refuses the drop-in", "verify 1 line 3: Failed to parse time value, ignoring: [Unit]\nverify 1 line 4: Unknown key\n",
			"new drop-in /etc/systemd/system/app.service.d/override.conf: systemd-analyze verify: line 3: Failed to parse time value, ignoring: [Unit] (and 1 more)"},
		{"all fine", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := "missing 0 /\navail 0 1 1\nmissing 1 /\navail 1 1 1\nmissing 2 /\navail 2 1 1\n" + tt.answer
			st, err := parseHostState([]byte(out), 0, targets)
			if err != nil {
				t.Fatal(err)
			}
			r := &runner{shares: map[string]*hostShare{"h1": {targets: targets}}, rep: &recorder{}}
			err = r.checkNewFiles("h1", map[string]string{}, st.files)
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("checkNewFiles = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
