package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// fakeT records failures instead of failing the test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true }
func (f *fakeT) Fatal(...any)          { f.failed = true }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		got  string
		fail bool
	}{{"same\n", false}, {"other\n", true}} {
		f := &fakeT{TB: t}
		Check(f, path, []byte(tt.got))
		if f.failed != tt.fail {
			t.Errorf("Check(%q): failed %v, want %v", tt.got, f.failed, tt.fail)
		}
	}
	f := &fakeT{TB: t}
	Check(f, filepath.Join(t.TempDir(), "missing.golden"), nil)
	if !f.failed {
		t.Error("a missing golden file passed")
	}
}
