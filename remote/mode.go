package remote

import (
	"fmt"
	"io/fs"

	"github.com/fleetfix/fleetfix/internal/unixmode"
)

// unixPerm converts a mode for Upload into chmod bits. Setuid, setgid and
// sticky may be given Go's way (fs.ModeSetuid, as FileInfo.Mode reports them)
// or as the raw octal bits (0o4755), since callers write modes both ways.
func unixPerm(m fs.FileMode) (uint32, error) {
	const allowed = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky | 0o7000
	if m&^allowed != 0 {
		return 0, fmt.Errorf("mode %v: only permission, setuid, setgid and sticky bits can be set", m)
	}
	return uint32(m)&0o7000 | unixmode.Bits(m), nil
}

// goMode converts the permission part of a raw st_mode into Go's form; the
// file type is dropped.
func goMode(raw uint32) fs.FileMode { return unixmode.FromBits(raw) }
