package fleet

import (
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/remote"
)

// Facts are what preflight learns of a host before changing anything.
type Facts struct {
	Systemd           bool
	PersistentJournal bool
	Root              bool
	SystemdVersion    int
	// BootID is the boot the host was in when preflight read it; the same
	// connection stays open until the reboot, so it is still the boot then.
	BootID string
	Units  []UnitRecord
	// Changes are the files that differ from the target, with their
	// planned backups. Empty: the host is already at the target.
	Changes []Change
	// Resume is the manifest of an unfinished earlier run that this run
	// continues (its backups are the ones a rollback needs).
	Resume *Manifest
	// Newest is the newest earlier run's manifest, whatever its state; nil
	// when the host has none.
	Newest *Manifest
	// SSHDUnit is the unit that starts the host's sshd (ssh.socket when
	// socket-activated, else ssh.service or sshd.service; "" unknown): the
	// reboot reads the new boot's sshd start record from it.
	SSHDUnit string
}

// preflight checks the host can take the fix and works out what will
// change. It changes nothing, and reads the host in one session.
func (r *runner) preflight(ctx context.Context, h Host) (*Facts, error) {
	w := r.share(h.Name())
	st, err := readHost(ctx, h, w.units(), w.targets)
	if err != nil {
		return nil, err
	}
	kv := st.facts
	f := &Facts{
		Systemd:           kv["systemd"] == "yes",
		PersistentJournal: kv["journal"] == "persistent",
		Root:              kv["uid"] == "0",
		BootID:            kv["boot_id"],
	}
	f.SystemdVersion, _ = strconv.Atoi(kv["systemd_version"])
	if !f.Systemd {
		return nil, fmt.Errorf("systemd is not running on this host (no /run/systemd/system)")
	}
	if !f.Root {
		return nil, fmt.Errorf("commands do not run as root (uid %s): set become: true for a non-root user", kv["uid"])
	}
	if !f.PersistentJournal {
		r.info(h.Name(), StepPreflight, true, "no persistent journal (/var/log/journal): stop timings after a reboot will be unavailable")
	}
	f.SSHDUnit = sshdUnit(kv)
	if err := w.checkSettings(f.SystemdVersion); err != nil {
		return nil, err
	}
	if err := r.checkInhibitors(h.Name(), kv, r.opts.Inventory.Rollout.Reboot && !r.opts.NoReboot); err != nil {
		return nil, err
	}
	if f.Units, err = w.unitRecords(st); err != nil {
		return nil, err
	}
	var changed []fileState // what the host has at each of f.Changes
	for i, want := range w.targets {
		c, err := r.compare(want, st.files[i])
		if err != nil {
			return nil, err
		}
		if c != nil {
			f.Changes = append(f.Changes, *c)
			changed = append(changed, st.files[i])
		}
	}
	if err := r.resumeOrNot(h.Name(), st, f); err != nil {
		return nil, err
	}
	// A destination that is a symbolic link is refused: the push would
	// replace the link with a file, and the backup would hold the link's
	// target, so a rollback could not put the link back.
	for i, c := range f.Changes {
		if link := changed[i].link; link != "" {
			return nil, fmt.Errorf("%s is a symbolic link to %s: fleetfix replaces files, not links; set dest to the file itself", c.Path, link)
		}
	}
	if err := checkFreeSpace(f.Changes, changed); err != nil {
		return nil, err
	}
	if err := r.checkNewFiles(h.Name(), kv, st.files); err != nil {
		return nil, err
	}
	return f, nil
}

// unitRecords keeps each unit's properties as preflight read them, and
// refuses a unit systemd does not have loaded.
func (w *hostShare) unitRecords(st *hostState) ([]UnitRecord, error) {
	var units []UnitRecord
	for i, svc := range w.services {
		u := st.units[i]
		if u.err != "" {
			return nil, fmt.Errorf("systemctl show %s: %s", svc.Unit, u.err)
		}
		if u.props["LoadState"] != "loaded" {
			return nil, fmt.Errorf("unit %s: LoadState=%s", svc.Unit, u.props["LoadState"])
		}
		units = append(units, UnitRecord{Unit: svc.Unit, Props: u.props})
	}
	return units, nil
}

// resumeOrNot finds the host's newest run (f.Newest) and, when it is
// unfinished (failed, halted or interrupted), makes it the run this one
// resumes rather than stacks on: its backups hold the files as they were
// before fleetfix touched them, and a host whose files are already new may
// still lack its reload and restart, so "nothing to change" is not "done".
func (r *runner) resumeOrNot(host string, st *hostState, f *Facts) error {
	prev, err := st.newestManifest(host)
	if err != nil {
		return err
	}
	if prev != nil && st.restored != "" {
		// The guard put the host back: the run is not one to resume,
		// whatever its controller last wrote.
		prev.State, prev.Note = StateRolledBack, guardNote(st.restored)
		r.info(host, StepPreflight, true, restoredMessage(prev.RunID, prev.Note))
	}
	if prev != nil && prev.RunID == r.runID {
		return fmt.Errorf("run id %s is already used on this host (two runs started in the same second?)", r.runID)
	}
	f.Newest = prev
	if prev == nil || !resumable(prev.State) {
		return nil
	}
	// Only the same work may be resumed: a run that changes other files
	// would be recorded, and later rolled back, as one it is not.
	if diff := sameChanges(prev, f.Changes, r.share(host).targets); diff != "" {
		return fmt.Errorf("unfinished run %s (%s) made other changes than this inventory: %s: roll it back first (fleetfix rollback -i %s --run %s %s), or finish it with its own inventory",
			prev.RunID, prev.State, diff, inventoryPath(r.opts.Inventory), prev.RunID, host)
	}
	f.Resume = prev
	return nil
}

// resumable reports whether a run in state is unfinished: a rollout resumes
// it.
func resumable(state string) bool {
	switch state {
	case StateRunning, StateFailed, StateHalted, StateInterrupted:
		return true
	}
	return false
}

// sameChanges says how the unfinished run p differs from the work this
// inventory does on the host (its targets, of which changes differ now),
// or "" when a resume may continue it: the same paths, each with the same
// new sha256.
func sameChanges(p *Manifest, changes []Change, targets []fileTarget) string {
	want := make(map[string]string, len(targets))
	for _, t := range targets {
		want[t.Path] = t.SHA256
	}
	inRun := make(map[string]bool, len(p.Changes))
	var diffs []string
	for _, c := range p.Changes {
		inRun[c.Path] = true
		switch sum, ok := want[c.Path]; {
		case !ok:
			diffs = append(diffs, c.Path+" is not in this inventory")
		case sum != c.NewSHA256:
			diffs = append(diffs, fmt.Sprintf("%s: the run writes sha256 %s, this inventory %s", c.Path, short(c.NewSHA256), short(sum)))
		}
	}
	for _, c := range changes {
		if !inRun[c.Path] {
			diffs = append(diffs, c.Path+" is not in the run")
		}
	}
	return strings.Join(diffs, "; ")
}

// inventoryPath is the inventory's file as a command line names it.
func inventoryPath(inv *inventory.Inventory) string {
	if inv == nil || inv.Path == "" {
		return "INVENTORY"
	}
	return inv.Path
}

// checkNewFiles refuses targets whose owner the host lacks (the push would
// fail after the backup) or whose new drop-in systemd finds fault with (it
// would be installed and fail at daemon-reload).
func (r *runner) checkNewFiles(host string, facts map[string]string, files []fileState) error {
	for i, t := range r.share(host).targets {
		st := files[i]
		if len(st.noOwner) > 0 {
			return fmt.Errorf("owner %s of %s: no %s on the host; create it or fix owner in the inventory", t.Owner, t.Path, strings.Join(st.noOwner, " and no "))
		}
		if len(st.verify) > 0 {
			more := ""
			if len(st.verify) > 1 {
				more = fmt.Sprintf(" (and %d more)", len(st.verify)-1)
			}
			return fmt.Errorf("new drop-in %s: systemd-analyze verify: %s%s; fix the settings in the inventory", t.Path, st.verify[0], more)
		}
	}
	if facts["systemd_analyze"] == "no" {
		r.info(host, StepPreflight, false, "no systemd-analyze on the host: the new drop-in is checked at daemon-reload only")
	}
	return nil
}

// hostState is what scriptPreflight read of a host.
type hostState struct {
	facts  map[string]string
	units  []unitState // in the order asked
	files  []fileState // one per target, in order
	runs   []string    // run ids with a manifest, oldest first
	newest []byte      // the newest run's manifest
	// restored is the newest run's guard record, when its guard restored
	// the host.
	restored string
}

type unitState struct {
	props map[string]string
	err   string // systemctl show failed
}

type fileState struct {
	info     remote.FileInfo
	link     string   // the symbolic link's target, when the path is one
	ancestor string   // a missing file's nearest existing ancestor
	availKiB int64    // free on the file's (or that ancestor's) filesystem
	dev      string   // that filesystem's device number; "": not known
	noOwner  []string // "user NAME", "group NAME": the owner's parts the host lacks
	verify   []string // what systemd-analyze said of a new drop-in
	content  []byte   // a drop-in's current content, to diff
}

// readHost runs scriptPreflight and parses its answer strictly: a line it
// does not expect is an error, never skipped, since a misread checksum could
// make a rollout skip a host.
func readHost(ctx context.Context, h Host, units []string, targets []fileTarget) (*hostState, error) {
	args := append([]string{RemoteRunsDir, strconv.Itoa(len(units))}, units...)
	for _, t := range targets {
		args = append(args, t.wants(), t.Path)
	}
	out, err := runScript(ctx, h, scriptPreflight, args...)
	if err != nil {
		return nil, fmt.Errorf("read the host: %w", err)
	}
	st, err := parseHostState(out, len(units), targets)
	if err != nil {
		return nil, fmt.Errorf("read the host: %w", err)
	}
	return st, nil
}

func parseHostState(out []byte, nunits int, targets []fileTarget) (*hostState, error) {
	st := &hostState{facts: map[string]string{}, units: make([]unitState, nunits), files: make([]fileState, len(targets))}
	stats := make([]string, len(targets)) // the stat answer, in remote.ParseStat's form
	unit := -1
	index := func(s string, n int) (int, string, error) {
		num, rest, _ := strings.Cut(s, " ")
		i, err := strconv.Atoi(num)
		if err != nil || i < 0 || i >= n {
			return 0, "", fmt.Errorf("bad index in %q", s)
		}
		return i, rest, nil
	}
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSuffix(line, "\n")
		kind, rest, _ := strings.Cut(line, " ")
		var i int
		var err error
		switch kind {
		case "fact":
			if k, v, ok := strings.Cut(rest, "="); ok {
				st.facts[k] = v
			}
			continue
		case "prop":
			if unit < 0 {
				return nil, fmt.Errorf("property before its unit: %q", line)
			}
			if k, v, ok := strings.Cut(rest, "="); ok {
				st.units[unit].props[k] = v
			}
			continue
		case "run":
			if !ValidRunID(rest) {
				return nil, fmt.Errorf("bad run id %q", rest)
			}
			st.runs = append(st.runs, rest)
			continue
		case "restored":
			st.restored = rest
			continue
		case "manifest":
			if st.newest, err = base64.StdEncoding.DecodeString(rest); err != nil {
				return nil, fmt.Errorf("newest manifest: %w", err)
			}
			continue
		case "unit", "unit-error":
			if i, rest, err = index(rest, nunits); err != nil {
				return nil, err
			}
			unit = i
			st.units[i] = unitState{props: map[string]string{}, err: rest}
			continue
		case "link", "stat", "sha256", "content", "missing", "avail", "no-user", "no-group", "verify":
			if i, rest, err = index(rest, len(targets)); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unexpected line %q", line)
		}
		if err := st.fileLine(targets, stats, i, kind, rest); err != nil {
			return nil, err
		}
	}
	for i, t := range targets {
		if stats[i] == "" {
			return nil, fmt.Errorf("no answer for %s", t.Path)
		}
		fi, err := remote.ParseStat(t.Path, []byte(stats[i]))
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", t.Path, err)
		}
		st.files[i].info = fi
	}
	for i := range st.units {
		if st.units[i].props == nil {
			return nil, fmt.Errorf("no answer for unit %d", i)
		}
	}
	return st, nil
}

// fileLine records a line of preflight's answer about file target i.
func (st *hostState) fileLine(targets []fileTarget, stats []string, i int, kind, rest string) error {
	f := &st.files[i]
	var err error
	switch kind {
	case "link":
		f.link = rest
	case "stat", "sha256":
		stats[i] += kind + " " + rest + "\n"
	case "missing":
		stats[i] = "missing\n"
		f.ancestor = rest
	case "content":
		if f.content, err = base64.StdEncoding.DecodeString(rest); err != nil {
			return fmt.Errorf("content of %s: %w", targets[i].Path, err)
		}
	case "avail":
		kib, dev, _ := strings.Cut(rest, " ")
		if f.availKiB, err = strconv.ParseInt(kib, 10, 64); err != nil {
			return fmt.Errorf("free space of %s: %q", targets[i].Path, rest)
		}
		f.dev = dev
	case "no-user", "no-group":
		f.noOwner = append(f.noOwner, strings.TrimPrefix(kind, "no-")+" "+rest)
	case "verify":
		f.verify = append(f.verify, rest)
	}
	return nil
}

// newestManifest decodes the newest run's manifest, or returns nil when the
// host has none.
func (st *hostState) newestManifest(host string) (*Manifest, error) {
	if len(st.runs) == 0 {
		return nil, nil
	}
	id := st.runs[len(st.runs)-1]
	return decodeManifest(st.newest, id, host)
}

// fileTarget is a file a rollout wants on every host.
type fileTarget struct {
	Kind    string // "artifact" or "dropin"
	Unit    string
	Path    string
	Content []byte
	SHA256  string
	Mode    *fs.FileMode // nil: keep the existing file's mode (0644 for a new file)
	Owner   string       // "": keep the existing owner (root:root for a new file)
}

// wants is what preflight.sh is to check of the target besides its state
// (see the script's parameters).
func (t fileTarget) wants() string {
	var w []string
	if t.Kind == "dropin" {
		w = append(w, "content", "verify="+base64.StdEncoding.EncodeToString(t.Content))
	}
	if t.Owner != "" {
		w = append(w, "owner="+t.Owner)
	}
	if len(w) == 0 {
		return "-"
	}
	return strings.Join(w, ",")
}

// compare returns the change that brings the host's file to want, or nil
// when it is already there (content, mode and owner).
func (r *runner) compare(want fileTarget, st fileState) (*Change, error) {
	fi := st.info
	c := &Change{
		Path: want.Path, Kind: want.Kind, Unit: want.Unit,
		NewSHA256: want.SHA256, NewSize: int64(len(want.Content)),
		NewMode: "0644", NewOwner: "root:root",
	}
	if fi.Exists {
		if fi.SHA256 == "" {
			return nil, fmt.Errorf("%s exists and is not a regular file", want.Path)
		}
		c.Existed = true
		c.OldSHA256, c.OldSize = fi.SHA256, fi.Size
		c.OldMode = octalMode(fi.Mode)
		c.OldOwner = fi.Owner + ":" + fi.Group
		c.NewMode, c.NewOwner = c.OldMode, c.OldOwner
		c.Backup = want.Path + ".bak." + r.runID
	} else {
		// The topmost missing directory is what the run creates (mkdir -p)
		// and what a rollback removes again.
		for dir := path.Dir(want.Path); dir != st.ancestor && dir != "/"; dir = path.Dir(dir) {
			c.CreatedDir = dir
		}
	}
	if want.Mode != nil {
		c.NewMode = octalMode(*want.Mode)
	}
	if want.Owner != "" {
		c.NewOwner = normOwner(want.Owner)
	}
	if c.Existed && c.OldSHA256 == c.NewSHA256 && c.OldMode == c.NewMode && c.OldOwner == c.NewOwner {
		return nil, nil
	}
	if want.Kind == "dropin" {
		c.Diff = lineDiff(string(st.content), string(want.Content))
	}
	return c, nil
}

// normOwner makes "user" into "user:user"'s canonical form for comparison
// with what stat reports; a bare user keeps the file's group as root.
func normOwner(o string) string {
	if strings.Contains(o, ":") {
		return o
	}
	return o + ":root"
}

// checkFreeSpace wants room on each filesystem for what the run puts there
// together: a temporary copy of each new file and a backup of each old one,
// plus one margin; at[i] is what the host has at changes[i]. Files whose
// filesystem is not known count on their own.
func checkFreeSpace(changes []Change, at []fileState) error {
	const margin = 1 << 20
	type filesystem struct {
		avail, need int64
		paths       []string
	}
	var order []string
	fss := map[string]*filesystem{}
	for i, c := range changes {
		key := at[i].dev
		if key == "" {
			key = "file " + c.Path
		}
		fs := fss[key]
		if fs == nil {
			fs = &filesystem{avail: at[i].availKiB * 1024, need: margin}
			fss[key] = fs
			order = append(order, key)
		}
		fs.need += c.NewSize + c.OldSize
		fs.paths = append(fs.paths, c.Path)
	}
	for _, key := range order {
		if fs := fss[key]; fs.avail < fs.need {
			return fmt.Errorf("not enough free space for %s: %d bytes available, %d needed (new files, backups and a 1 MiB margin); free some space on that filesystem",
				strings.Join(fs.paths, ", "), fs.avail, fs.need)
		}
	}
	return nil
}

// parseKV parses KEY<sep>VALUE lines (systemctl show, our facts script).
// It splits in place: a scanner's buffer per call showed up as a quarter of
// all allocations in the profile of a 500-host scan.
func parseKV(b []byte, sep string) map[string]string {
	m := make(map[string]string)
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), sep); ok {
			m[k] = v
		}
	}
	return m
}

// lineDiff shows the lines removed (-) and added (+) between two small text
// files, in order; enough for a drop-in of a few lines.
func lineDiff(old, new string) string {
	ol, nl := splitLines(old), splitLines(new)
	inNew := make(map[string]int)
	for _, l := range nl {
		inNew[l]++
	}
	inOld := make(map[string]int)
	for _, l := range ol {
		inOld[l]++
	}
	var b strings.Builder
	for _, l := range ol {
		if inNew[l] == 0 {
			b.WriteString("-" + l + "\n")
		}
	}
	for _, l := range nl {
		if inOld[l] == 0 {
			b.WriteString("+" + l + "\n")
		}
	}
	return b.String()
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
