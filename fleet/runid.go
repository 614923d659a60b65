package fleet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// claimTries bounds how many later seconds ClaimRunID tries.
const claimTries = 60

// ClaimRunID returns an id for a run started at now that no earlier run
// keeping its manifests in stateDir has used. Ids have a second's
// resolution, and a controller killed and run again within that second
// would name its backups as the run it resumes: ClaimRunID reserves the
// id's directory (stateDir/runs/<id>, where the run's local manifests go)
// and takes the next free second when it is taken. With stateDir "", the
// id is NewRunID(now) and only the hosts' own check stands.
func ClaimRunID(stateDir string, now time.Time) (string, error) {
	if stateDir == "" {
		return NewRunID(now), nil
	}
	runs := filepath.Join(stateDir, "runs")
	if err := os.MkdirAll(runs, 0o700); err != nil {
		return "", fmt.Errorf("claim run id: %w", err)
	}
	for i := range claimTries {
		id := NewRunID(now.Add(time.Duration(i) * time.Second))
		err := os.Mkdir(filepath.Join(runs, id), 0o700)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("claim run id: %w", err)
		}
	}
	return "", fmt.Errorf("claim run id: the %d run ids from %s on are taken in %s", claimTries, NewRunID(now), runs)
}

// ReleaseRunID removes the directory ClaimRunID reserved when the run left
// nothing in it (no host got as far as a manifest).
func ReleaseRunID(stateDir, id string) {
	if stateDir != "" && ValidRunID(id) {
		_ = os.Remove(filepath.Join(stateDir, "runs", id)) // fails, as meant, when not empty
	}
}
