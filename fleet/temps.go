package fleet

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// cleanTemps removes the temporary files that uploads of run m (and of the
// runs that resumed it) left beside its files when they were cut off, and
// says so. It runs under the host's lock: without it, they may be a live
// run's. A failure only warns: the files are in the way of nothing.
func (hr *hostRun) cleanTemps(ctx context.Context, m *Manifest) {
	ids := append([]string{m.RunID}, m.ResumedBy...)
	args := append([]string{strconv.Itoa(len(ids))}, ids...)
	for _, c := range m.Changes {
		args = append(args, c.Path)
	}
	out, err := runScript(ctx, hr.h, scriptCleanTemps, args...)
	if err != nil {
		hr.r.info(hr.t.Name, hr.last, true, fmt.Sprintf("could not remove the temporary files of run %s: %v", m.RunID, err))
		return
	}
	var removed []string
	for line := range strings.Lines(string(out)) {
		if p, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "removed "); ok {
			removed = append(removed, p)
		}
	}
	if len(removed) > 0 {
		hr.r.info(hr.t.Name, hr.last, false, fmt.Sprintf("removed %d temporary file(s) an upload of run %s left: %s", len(removed), m.RunID, strings.Join(removed, " ")))
	}
}
