package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestHugeInventoryBounded loads a generated 200,000-host inventory wrong in
// every entry: the error lists MaxShown problems and counts the rest, and
// the load's memory stays bounded.
func TestHugeInventoryBounded(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's memory overhead makes the figures meaningless")
	}
	const hosts = 200_000
	var b strings.Builder
	b.WriteString("services: [{unit: x}]\nhosts:\n")
	for i := range hosts {
		fmt.Fprintf(&b, "- {name: h%d, port: 0}\n", i)
	}
	data := []byte(b.String())
	if len(data) > MaxSize {
		t.Fatalf("generated %d bytes, over MaxSize", len(data))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Parse("big.yaml", data)
	runtime.ReadMemStats(&after)
	var ie *Error
	if !errors.As(err, &ie) {
		t.Fatalf("Parse: %v, want an *Error", err)
	}
	msg := err.Error()
	lines := strings.Split(msg, "\n")
	if len(lines) != MaxShown+1 || !strings.HasPrefix(lines[0], "big.yaml:3: hosts[0]") {
		t.Errorf("error has %d lines, first %q; want %d", len(lines), lines[0], MaxShown+1)
	}
	if want := fmt.Sprintf("and %d more problems", len(ie.Problems)-MaxShown); lines[len(lines)-1] != want {
		t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
	}
	if len(msg) > 16<<10 {
		t.Errorf("error is %d bytes", len(msg))
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes of YAML, %d problems, %d bytes of error, %d MiB allocated", len(data), len(ie.Problems), len(msg), alloc>>20)
	// yaml.v3's node tree and the loader's per-entry fields dominate: about
	// 200 times the text in all (a peak RSS of about 680 MiB here). The
	// bound fails a load that keeps more, such as an error text listing
	// every problem (22 MB for this input).
	if limit := uint64(300 * len(data)); alloc > limit {
		t.Errorf("allocated %d MiB loading %d MiB", alloc>>20, len(data)>>20)
	}
}

func TestOversizeInventoryRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	// Valid YAML all the way: only the size is wrong.
	data := []byte("# " + strings.Repeat("x", MaxSize) + "\n")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+":1: the file is over 10 MiB") {
		t.Fatalf("Load = %v, want the size refused", err)
	}
	at := make([]byte, MaxSize)
	if _, err := Parse("exact.yaml", at); err != nil && strings.Contains(err.Error(), "over 10 MiB") {
		t.Errorf("a file of exactly MaxSize refused: %v", err)
	}
}
