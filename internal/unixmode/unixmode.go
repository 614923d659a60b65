// Package unixmode converts between Unix permission bits (chmod's and
// st_mode's, with setuid, setgid and sticky at 04000, 02000, 01000) and Go's
// fs.FileMode, which keeps those three as flags of its own.
package unixmode

import (
	"fmt"
	"io/fs"
	"strconv"
)

// Unix permission bits beyond rwx.
const (
	Setuid = 0o4000
	Setgid = 0o2000
	Sticky = 0o1000
)

// FromBits converts the permission part of Unix mode bits (a raw st_mode's
// file type is dropped) into Go's form.
func FromBits(v uint32) fs.FileMode {
	m := fs.FileMode(v & 0o777)
	if v&Setuid != 0 {
		m |= fs.ModeSetuid
	}
	if v&Setgid != 0 {
		m |= fs.ModeSetgid
	}
	if v&Sticky != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// Bits converts Go's form back into Unix permission bits.
func Bits(m fs.FileMode) uint32 {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= Setuid
	}
	if m&fs.ModeSetgid != 0 {
		v |= Setgid
	}
	if m&fs.ModeSticky != 0 {
		v |= Sticky
	}
	return v
}

// Octal writes a mode as the Unix octal a person reads: "4755".
func Octal(m fs.FileMode) string { return fmt.Sprintf("%04o", Bits(m)) }

// ParseOctal reads Octal's form back.
func ParseOctal(s string) (fs.FileMode, error) {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return 0, fmt.Errorf("mode %q: want octal such as 0755", s)
	}
	return FromBits(uint32(v)), nil
}
