// Package golden compares a test's output with a file in testdata, and
// rewrites the file instead under the one -update flag every package's
// tests share.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is the flag: go test ./pkg -update rewrites the package's goldens.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the code's output")

// Updating reports whether the tests run with -update.
func Updating() bool { return *update }

// Check compares got with path (under testdata/), or, with -update, writes
// got there.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
