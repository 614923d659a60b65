package inventory

import (
	"regexp"
	"strings"
)

// varRE finds what reads as a variable: ${NAME}, ${...} or $NAME.
var varRE = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)

// literal reports, and returns false for, a value s at v that looks like a
// variable. Inventory values are literal: nothing expands them, so
// "${TIMEOUT}" would reach the host as those ten characters.
func (l *loader) literal(v value, s string) bool {
	m := varRE.FindString(s)
	if m == "" {
		return true
	}
	l.add(v, "%s looks like a variable, but inventory values are literal (no templating): write the value itself", m)
	return false
}

// expandsVars reports whether systemd itself expands $NAME and ${NAME} in
// the values of setting key: the command lines of Exec*= settings, where
// such a value is systemd's syntax, not an unexpanded template.
func expandsVars(key string) bool {
	return strings.HasPrefix(key, "Exec")
}
