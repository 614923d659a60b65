package fleet

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestClaimRunIDSkipsTakenSeconds(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 1, 12, 23, 42, 500, time.UTC)
	var got []string
	var releases []func()
	for range 3 {
		id, release, err := ClaimRunID(dir, now)
		if err != nil {
			t.Fatal(err)
		}
		got, releases = append(got, id), append(releases, release)
	}
	want := []string{"20261201_122342", "20261201_122343", "20261201_122344"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ids %v, want %v", got, want)
		}
	}
	// A run that wrote a manifest keeps its id; an empty one gives it back.
	if err := os.WriteFile(filepath.Join(dir, "runs", got[0], "h1.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	releases[0]()
	releases[1]()
	if _, err := os.Stat(filepath.Join(dir, "runs", got[0])); err != nil {
		t.Errorf("released a run with a manifest: %v", err)
	}
	if id, _, _ := ClaimRunID(dir, now); id != got[1] {
		t.Errorf("after release: %s, want %s again", id, got[1])
	}
}

func TestClaimRunIDWithoutStateDir(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 23, 42, 0, time.UTC)
	for range 2 {
		if id, release, err := ClaimRunID("", now); err != nil || id != "20261201_122342" || release == nil {
			t.Fatalf("ClaimRunID(\"\"): %q %v", id, err)
		}
	}
}

func TestClaimRunIDGivesUp(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for i := range claimTries {
		if err := os.MkdirAll(filepath.Join(dir, "runs", NewRunID(now.Add(time.Duration(i)*time.Second))), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if id, _, err := ClaimRunID(dir, now); err == nil {
		t.Fatalf("claimed %s with every id taken", id)
	}
}
