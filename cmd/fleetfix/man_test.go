package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestManPages(t *testing.T) {
	out, stderr, code := fleetfix(t, nil, "man", "prune")
	for _, want := range []string{`.TH "FLEETFIX" "1"`, "fleetfix-prune", "fleetfix prune [INVENTORY | -i INVENTORY] [HOST...]", "(<path>.bak.<run id>)", `\fB--keep\fP`} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("man prune: exit %d, no %q in:\n%s%s", code, want, out, stderr)
		}
	}
	dir := t.TempDir()
	if _, stderr, code := fleetfix(t, nil, "man", "--dir", dir); code != 0 {
		t.Fatalf("man --dir: exit %d %s", code, stderr)
	}
	for _, page := range []string{"fleetfix.1", "fleetfix-rollout.1", "fleetfix-scan.1", "fleetfix-lab-up.1", "fleetfix-version.1"} {
		if b, err := os.ReadFile(filepath.Join(dir, page)); err != nil || !strings.Contains(string(b), ".SH SYNOPSIS") {
			t.Errorf("%s: %v, %.80q", page, err, b)
		}
	}
}
