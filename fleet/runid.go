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
// and takes the next free second when it is taken. release, called when
// the run ends, removes the directory if the run left nothing in it (no
// host got as far as a manifest). With stateDir "", the id is
// NewRunID(now) and only the hosts' own check stands.
func ClaimRunID(stateDir string, now time.Time) (id string, release func(), err error) {
	if stateDir == "" {
		return NewRunID(now), func() {}, nil
	}
	runs := filepath.Join(stateDir, "runs")
	if err := os.MkdirAll(runs, 0o700); err != nil {
		return "", nil, fmt.Errorf("claim run id: %w", err)
	}
	for i := range claimTries {
		id := NewRunID(now.Add(time.Duration(i) * time.Second))
		dir := filepath.Join(runs, id)
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return id, func() { _ = os.Remove(dir) }, nil // fails, as meant, when not empty
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", nil, fmt.Errorf("claim run id: %w", err)
		}
	}
	return "", nil, fmt.Errorf("claim run id: the %d run ids from %s on are taken in %s", claimTries, NewRunID(now), runs)
}
