package main

import (
	"debug/elf"
	"strings"
	"testing"
)

// make build's binary is statically linked: no program interpreter, no
// shared library, so it runs on any Linux of its architecture.
func TestBinaryIsStatic(t *testing.T) {
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("program header %v: dynamically linked", p.Type)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("imported libraries %q (%v)", libs, err)
	}
}

// Without cgo, names resolve through Go's own resolver, which reads
// /etc/hosts and /etc/resolv.conf as libc does: "localhost" reaches the
// loopback (and is refused there) rather than failing to resolve.
func TestStaticBinaryResolvesNames(t *testing.T) {
	out, stderr, code := fleetfix(t, []string{"XDG_STATE_HOME=" + t.TempDir()}, "rollout", tinyInventory(t, "localhost", 1))
	if code != exitFailedHosts || !strings.Contains(out, "connection refused") || strings.Contains(out, "no such host") {
		t.Errorf("exit %d, want %d, connection refused:\n%s%s", code, exitFailedHosts, out, stderr)
	}
}
