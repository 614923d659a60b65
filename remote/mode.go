package remote

import (
	"fmt"
	"io/fs"
)

// Unix permission bits beyond rwx, as chmod and stat know them.
const (
	unixSetuid = 0o4000
	unixSetgid = 0o2000
	unixSticky = 0o1000
)

// unixPerm converts a mode for Upload into chmod bits. Setuid, setgid and
// sticky may be given Go's way (fs.ModeSetuid, as FileInfo.Mode reports them)
// or as the raw octal bits (0o4755), since callers write modes both ways.
func unixPerm(m fs.FileMode) (uint32, error) {
	const allowed = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky | 0o7000
	if m&^allowed != 0 {
		return 0, fmt.Errorf("mode %v: only permission, setuid, setgid and sticky bits can be set", m)
	}
	p := uint32(m) & 0o7777
	if m&fs.ModeSetuid != 0 {
		p |= unixSetuid
	}
	if m&fs.ModeSetgid != 0 {
		p |= unixSetgid
	}
	if m&fs.ModeSticky != 0 {
		p |= unixSticky
	}
	return p, nil
}

// goMode converts the permission part of a raw st_mode into Go's form; the
// file type is dropped.
func goMode(raw uint32) fs.FileMode {
	m := fs.FileMode(raw & 0o777)
	if raw&unixSetuid != 0 {
		m |= fs.ModeSetuid
	}
	if raw&unixSetgid != 0 {
		m |= fs.ModeSetgid
	}
	if raw&unixSticky != 0 {
		m |= fs.ModeSticky
	}
	return m
}
