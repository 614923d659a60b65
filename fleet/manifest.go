package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// RemoteRunsDir is where each host keeps the manifests of the runs that
// changed it, so a rollback needs nothing from the controller that made them.
const RemoteRunsDir = "/var/lib/fleetfix/runs"

// ManifestSchema is the version of the manifest format.
const ManifestSchema = 1

// RunIDLayout formats run ids; the same id names every backup of the run
// (<path>.bak.<run id>) on every host.
const RunIDLayout = "20060102_150405"

var runIDPattern = regexp.MustCompile(`^[0-9]{8}_[0-9]{6}$`)

// NewRunID returns the run id for a run started at t.
func NewRunID(t time.Time) string { return t.UTC().Format(RunIDLayout) }

// ValidRunID reports whether id has the run id form.
func ValidRunID(id string) bool { return runIDPattern.MatchString(id) }

// Run states of a manifest.
const (
	StateRunning    = "running"
	StateComplete   = "complete"
	StateFailed     = "failed"
	StateHalted     = "halted"
	StateRolledBack = "rolled-back"
	// StateInterrupted: the run was cut off (its controller gone, its
	// lease expired, or the operator stopped it now); resumable.
	StateInterrupted = "interrupted"
)

// Change is one file a run changes on a host.
type Change struct {
	Path      string `json:"path"`
	Kind      string `json:"kind"` // "artifact" or "dropin"
	Unit      string `json:"unit"`
	Existed   bool   `json:"existed"`
	OldSHA256 string `json:"old_sha256,omitempty"`
	NewSHA256 string `json:"new_sha256"`
	OldMode   string `json:"old_mode,omitempty"`
	NewMode   string `json:"new_mode"`
	OldOwner  string `json:"old_owner,omitempty"`
	NewOwner  string `json:"new_owner"`
	OldSize   int64  `json:"old_size,omitempty"`
	NewSize   int64  `json:"new_size"`
	// Backup is where the old file is kept (<path>.bak.<run id>); empty when
	// the file did not exist.
	Backup string `json:"backup,omitempty"`
	// CreatedDir is the topmost directory the run created for the file (a
	// drop-in directory, say); a rollback removes it and the directories
	// below it on the way to the file, each only when empty.
	CreatedDir string `json:"created_dir,omitempty"`
	// Diff shows a text file's change (drop-ins), for plans and reports.
	Diff string `json:"diff,omitempty"`
	// Done is set once the new content is in place.
	Done bool `json:"done"`
}

// StepRecord is a step's outcome in a manifest.
type StepRecord struct {
	Step     Step          `json:"step"`
	Phase    Phase         `json:"phase"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Error    string        `json:"error,omitempty"`
}

// UnitRecord keeps a unit's properties from before the run.
type UnitRecord struct {
	Unit  string            `json:"unit"`
	Props map[string]string `json:"props"`
}

// Manifest records what a run did to a host: enough to roll it back exactly
// and to resume it.
type Manifest struct {
	Schema     int          `json:"schema"`
	RunID      string       `json:"run_id"`
	Host       string       `json:"host"`
	Controller string       `json:"controller"`
	Started    time.Time    `json:"started"`
	Updated    time.Time    `json:"updated"`
	State      string       `json:"state"`
	Units      []UnitRecord `json:"units"`
	Changes    []Change     `json:"changes"`
	Steps      []StepRecord `json:"steps"`
	// ResumedBy lists the runs that continued this one, oldest first: the
	// temporary files their uploads leave carry their ids.
	ResumedBy []string `json:"resumed_by,omitempty"`

	// BootID is the host's boot the run started in: a shutdown of that
	// boot stopped whatever build the run left running.
	BootID string `json:"boot_id,omitempty"`

	// Note says how the run came to its state when that is not fleetfix's
	// own doing ("restored by the guard at ...").
	Note string `json:"note,omitempty"`
	// Guard names the run's guard while it is installed on the host.
	Guard string `json:"guard,omitempty"`
}

func (m *Manifest) remotePath() string { return RemoteRunsDir + "/" + m.RunID + ".json" }

// manifestWrite is a manifest encoded as it will be saved, with where to.
type manifestWrite struct {
	data   []byte
	remote string
	local  string // "": no local copy
}

// snapshot stamps m and encodes it, so that it can be written while m
// changes.
func (m *Manifest) snapshot(stateDir string) (*manifestWrite, error) {
	m.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	w := &manifestWrite{data: append(b, '\n'), remote: m.remotePath()}
	if stateDir != "" {
		w.local = filepath.Join(stateDir, "runs", m.RunID, m.Host+".json")
	}
	return w, nil
}

// write writes the manifest on the host (atomically) and, when a local path
// is set, in the controller's state directory. lock takes the host's run lock
// before writing (takeLock: nothing is written if another run holds it) or
// releases it after (releaseLock), in the same session: a session less at
// the start and at the end of every host.
func (w *manifestWrite) write(ctx context.Context, h Host, lock lockReq) error {
	if w.local != "" {
		if err := os.MkdirAll(filepath.Dir(w.local), 0o700); err != nil {
			return fmt.Errorf("local manifest: %w", err)
		}
		if err := os.WriteFile(w.local, w.data, 0o600); err != nil {
			return fmt.Errorf("local manifest: %w", err)
		}
	}
	sum := sha256.Sum256(w.data)
	args := []string{w.remote, hex.EncodeToString(sum[:])}
	args = append(args, lock.args()...)
	if _, err := runScriptInput(ctx, h, w.data, scriptSaveManifest, args...); err != nil {
		if lock.action == takeLock {
			if lerr := lockError(err); errors.Is(lerr, errLocked) {
				return lerr
			}
		}
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// listRuns returns the run ids with a manifest on the host, oldest first.
func listRuns(ctx context.Context, h Host) ([]string, error) {
	out, err := runScript(ctx, h, scriptListRuns, RemoteRunsDir)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var ids []string
	for _, f := range strings.Fields(string(out)) {
		if id, ok := strings.CutSuffix(f, ".json"); ok && ValidRunID(id) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// readManifest reads the manifest of run id from the host.
func readManifest(ctx context.Context, h Host, id string) (*Manifest, error) {
	if !ValidRunID(id) {
		return nil, fmt.Errorf("run id %q: want the form YYYYMMDD_HHMMSS", id)
	}
	out, err := h.Run(ctx, "cat", "--", RemoteRunsDir+"/"+id+".json")
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", id, err)
	}
	return decodeManifest(out, id, h.Name())
}

// decodeManifest decodes run id's manifest as read from host.
func decodeManifest(b []byte, id, host string) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s on %s is not valid: %w", id, host, err)
	}
	if m.Schema != ManifestSchema || m.RunID != id {
		return nil, fmt.Errorf("manifest %s on %s: schema %d, run id %q", id, host, m.Schema, m.RunID)
	}
	return &m, nil
}

// eachRun calls f with the host's manifests, newest first, until f says stop.
func eachRun(ctx context.Context, h Host, f func(*Manifest) (stop bool, err error)) error {
	ids, err := listRuns(ctx, h)
	if err != nil {
		return err
	}
	for i := len(ids) - 1; i >= 0; i-- {
		m, err := readManifest(ctx, h, ids[i])
		if err != nil {
			return err
		}
		if stop, err := f(m); stop || err != nil {
			return err
		}
	}
	return nil
}

func (m *Manifest) record(step Step, phase Phase, started time.Time, err error) {
	r := StepRecord{Step: step, Phase: phase, Started: started.UTC(), Duration: time.Since(started)}
	if err != nil {
		r.Error = err.Error()
	}
	m.Steps = append(m.Steps, r)
}
