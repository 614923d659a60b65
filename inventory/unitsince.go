package inventory

import (
	_ "embed"
	"strconv"
	"strings"
)

//go:embed unitsince.txt
var unitSinceText string

// SettingSince returns the systemd version that introduced the drop-in
// setting key (FinalKillSignal: 240), or 0 for a setting older than the
// table reaches: one that every systemd a fleet runs knows.
func SettingSince(key string) int {
	for line := range strings.Lines(unitSinceText) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && k == key {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// NewestSetting returns, of the drop-in's settings, the one that needs the
// newest systemd and that version, or "", 0 when every setting predates the
// table.
func (d DropIn) NewestSetting() (key string, since int) {
	for _, s := range d.Settings {
		if v := SettingSince(s.Key); v > since {
			key, since = s.Key, v
		}
	}
	return key, since
}
