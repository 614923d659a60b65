package fleet

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Facts are what preflight learns of a host before changing anything.
type Facts struct {
	Systemd           bool
	PersistentJournal bool
	Root              bool
	SystemdVersion    int
	Units             []UnitRecord
	// Changes are the files that differ from the target, with their
	// planned backups. Empty: the host is already at the target.
	Changes []Change
	// Resume is the manifest of an unfinished earlier run that this run
	// continues (its backups are the ones a rollback needs).
	Resume *Manifest
}

// preflight checks the host can take the fix and works out what will
// change. It changes nothing.
func (r *runner) preflight(ctx context.Context, h Host) (*Facts, error) {
	out, err := runScript(ctx, h, scriptFacts)
	if err != nil {
		return nil, fmt.Errorf("host facts: %w", err)
	}
	kv := parseKV(out, "=")
	f := &Facts{
		Systemd:           kv["systemd"] == "yes",
		PersistentJournal: kv["journal"] == "persistent",
		Root:              kv["uid"] == "0",
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
	for _, svc := range r.services {
		props, err := unitProps(ctx, h, svc.Unit)
		if err != nil {
			return nil, err
		}
		if props["LoadState"] != "loaded" {
			return nil, fmt.Errorf("unit %s: LoadState=%s", svc.Unit, props["LoadState"])
		}
		f.Units = append(f.Units, UnitRecord{Unit: svc.Unit, Props: props})
	}
	for _, want := range r.targets {
		c, err := r.compare(ctx, h, want)
		if err != nil {
			return nil, err
		}
		if c != nil {
			f.Changes = append(f.Changes, *c)
		}
	}
	// An unfinished run (failed or halted) is resumed rather than stacked on:
	// its backups hold the files as they were before fleetfix touched them,
	// and a host whose files are already new may still lack its reload and
	// restart, so "nothing to change" is not "done".
	prev, err := newestManifest(ctx, h)
	if err != nil {
		return nil, err
	}
	if prev != nil && prev.RunID == r.runID {
		return nil, fmt.Errorf("run id %s is already used on this host (two runs started in the same second?)", r.runID)
	}
	if prev != nil && (prev.State == StateRunning || prev.State == StateFailed || prev.State == StateHalted) {
		f.Resume = prev
	}
	if len(f.Changes) == 0 {
		return f, nil
	}
	if err := checkLinks(ctx, h, f.Changes); err != nil {
		return nil, err
	}
	if err := checkFreeSpace(ctx, h, f.Changes); err != nil {
		return nil, err
	}
	return f, nil
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

// compare returns the change that brings the host's file to want, or nil
// when it is already there (content, mode and owner).
func (r *runner) compare(ctx context.Context, h Host, want fileTarget) (*Change, error) {
	fi, err := h.Stat(ctx, want.Path)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", want.Path, err)
	}
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
		for dir := path.Dir(want.Path); dir != "/"; dir = path.Dir(dir) {
			di, err := h.Stat(ctx, dir)
			if err != nil {
				return nil, fmt.Errorf("stat %s: %w", dir, err)
			}
			if di.Exists {
				break
			}
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
		var old []byte
		if c.Existed {
			if old, err = h.Run(ctx, "cat", "--", want.Path); err != nil {
				return nil, fmt.Errorf("read %s: %w", want.Path, err)
			}
		}
		c.Diff = lineDiff(string(old), string(want.Content))
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

func unitProps(ctx context.Context, h Host, unit string) (map[string]string, error) {
	out, err := h.Run(ctx, "systemctl", "show", "--no-pager", "--", unit)
	if err != nil {
		return nil, fmt.Errorf("systemctl show %s: %w", unit, err)
	}
	return parseKV(out, "="), nil
}

// checkFreeSpace wants room on each filesystem for a temporary copy of each
// new file and a backup of each old one, plus a margin.
func checkFreeSpace(ctx context.Context, h Host, changes []Change) error {
	paths := make([]string, len(changes))
	for i, c := range changes {
		paths[i] = c.Path
	}
	out, err := runScript(ctx, h, scriptFreeSpace, paths...)
	if err != nil {
		return fmt.Errorf("free space: %w", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != len(changes) {
		return fmt.Errorf("free space: %d answers for %d paths", len(lines), len(changes))
	}
	const margin = 1 << 20
	for i, c := range changes {
		kib, err := strconv.ParseInt(lines[i], 10, 64)
		if err != nil {
			return fmt.Errorf("free space of %s: %q", c.Path, lines[i])
		}
		avail := kib * 1024
		need := c.NewSize + c.OldSize + margin
		if avail < need {
			return fmt.Errorf("not enough free space for %s: %d bytes available, %d needed", c.Path, avail, need)
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

// checkLinks refuses a destination that is a symbolic link: the push would
// replace the link with a file, and the backup would hold the link's
// target, so a rollback could not put the link back.
func checkLinks(ctx context.Context, h Host, changes []Change) error {
	paths := make([]string, len(changes))
	for i, c := range changes {
		paths[i] = c.Path
	}
	out, err := runScript(ctx, h, scriptLinks, paths...)
	if err != nil {
		return fmt.Errorf("check links: %w", err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if target, ok := strings.CutPrefix(line, "link "); ok && i < len(changes) {
			return fmt.Errorf("%s is a symbolic link to %s: fleetfix replaces files, not links; set dest to the file itself", changes[i].Path, target)
		}
	}
	return nil
}
