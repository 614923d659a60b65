package inventory

import (
	_ "embed"
	"maps"
	"slices"
	"strings"
)

//go:embed unitkeys.txt
var unitKeysText string

// unitKeys maps each unit file section systemd knows to its settings and
// the type systemd's own documentation dump gives each value (SECONDS,
// SIGNAL, BOOLEAN, KILLMODE, ...).
type unitKeys map[string]map[string]string

// parseUnitKeys reads unitkeys.txt. It is parsed per inventory load, not
// kept: a thousand short lines cost microseconds.
func parseUnitKeys() unitKeys {
	keys := unitKeys{}
	var sec map[string]string
	for line := range strings.Lines(unitKeysText) {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#':
		case line[0] == '[':
			name := strings.Trim(line, "[]")
			if keys[name] == nil {
				keys[name] = map[string]string{}
			}
			sec = keys[name]
		default:
			k, typ, _ := strings.Cut(line, "=")
			sec[k] = typ
		}
	}
	return keys
}

// sections lists the section names, sorted.
func (u unitKeys) sections() []string {
	return slices.Sorted(maps.Keys(u))
}

// settingType returns the type of key in section, known is false for a key
// systemd does not have there. A section of the operator's own (X-...)
// takes any key, as systemd ignores it.
func (u unitKeys) settingType(section, key string) (typ string, known bool) {
	sec, ok := u[section]
	if !ok {
		return "", true
	}
	typ, known = sec[key]
	if known && typ == "OTHER" && strings.HasSuffix(key, "Sec") {
		// Time spans with a parser of their own (TimeoutStopSec, ...).
		typ = "SECONDS"
	}
	return typ, known
}

// keys lists the settings of section, sorted, for suggestions.
func (u unitKeys) keys(section string) []string {
	return slices.Sorted(maps.Keys(u[section]))
}
