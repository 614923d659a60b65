package fleet

import (
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/remote"
)

// TestFailureDetailInVerboseLog: a remote script's failure is one line in
// the result, cause first, and the script with its stderr is an
// informational event (shown with -v) only.
func TestFailureDetailInVerboseLog(t *testing.T) {
	h := outdatedHost("h1")
	h.answers["backup"] = func(c call) ([]byte, error) {
		return nil, &remote.ExitError{Host: "h1", Argv: scriptBackup.argv(c.args), Status: 3,
			Stderr: []byte("backup /etc/x.bak exists with sha256 ab, not cd: refusing to overwrite it\nmore\n")}
	}
	res, rec := rollOne(t, h, nil)
	if res.Status != StatusFailed || res.Step != StepBackup {
		t.Fatalf("result %s at %s, want failed at backup", res.Status, res.Step)
	}
	want := "h1: backup /etc/x.bak exists with sha256 ab, not cd: refusing to overwrite it (fleetfix-backup exited with status 3)"
	if !strings.Contains(res.Error, want) || strings.Contains(res.Error, "\n") || strings.Contains(res.Error, "'sh'") {
		t.Errorf("error %q, want one line with %q", res.Error, want)
	}
	var detail *Event
	for i, e := range rec.events {
		if e.Phase == PhaseInfo && strings.Contains(e.Message, scriptBackup.body[:40]) {
			detail = &rec.events[i]
		}
	}
	if detail == nil || detail.Warning || detail.Step != StepBackup || !strings.Contains(detail.Message, "more") {
		t.Errorf("no informational event with the script and stderr: %+v", detail)
	}
}
