package inventory

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	dropInRE  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*\.conf$`)
	sectionRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)
	settingRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
)

// dropIn reads a service's dropin at v; what it leaves out is the default.
func (l *loader) dropIn(v value) DropIn {
	d := DefaultDropIn()
	f, ok := l.mapping(v, "name", "section", "settings")
	if !ok {
		return d
	}
	if n := l.matching(f.get("name"), dropInRE, "%q must be a plain file name ending in .conf, such as override.conf"); n != "" {
		d.Name = n
	}
	keys := parseUnitKeys()
	if sv := f.get("section"); sv.present() {
		s := l.matching(sv, sectionRE, "%q is not a unit file section name, such as Service")
		if _, known := keys[s]; s != "" && !known && !strings.HasPrefix(s, "X-") {
			l.unknownSection(sv, s, keys.sections())
			return d
		}
		if s != "" {
			d.Section = s
		}
	}
	if settings := f.get("settings"); settings.present() {
		d.Settings = l.settings(settings, keys, d.Section)
	}
	return d
}

// unknownSection reports a section systemd does not have.
func (l *loader) unknownSection(v value, s string, known []string) {
	msg := fmt.Sprintf("unknown unit file section %q", s)
	if hint := suggest(s, known); hint != "" {
		msg += fmt.Sprintf("; did you mean %q?", hint)
	} else {
		msg += "; expected one of: " + strings.Join(known, ", ") + ", or X-NAME of your own"
	}
	l.add(v, "%s", msg)
}

// settings reads the settings mapping at v in document order; a list value
// repeats the key, e.g. ExecStart: ["", /usr/bin/x] resets ExecStart first.
// Each key must be one systemd has in section, with a value of its type.
func (l *loader) settings(v value, keys unitKeys, section string) []Setting {
	n := v.node()
	if n.Kind != yaml.MappingNode {
		l.add(v, "must be a mapping of systemd settings, such as KillMode: mixed")
		return nil
	}
	if len(n.Content) == 0 {
		l.add(v, "is empty; leave settings out to get the defaults")
		return nil
	}
	var out []Setting
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		key := at(k, v.key(k.Value))
		if k.Kind != yaml.ScalarNode || !settingRE.MatchString(k.Value) {
			l.add(key, "%q is not a systemd setting name, such as KillMode", k.Value)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			l.add(key, "repeated (first at line %d); give a list to repeat a setting", line)
			continue
		}
		seen[k.Value] = k.Line
		typ, known := keys.settingType(section, k.Value)
		if !known {
			l.unknownSetting(key, k.Value, keys.keys(section), section)
			continue
		}
		for _, val := range l.settingValues(at(n.Content[i+1], key.path), typ, expandsVars(k.Value)) {
			out = append(out, Setting{Key: k.Value, Value: val})
		}
	}
	return out
}

// unknownSetting reports a key systemd does not have in section.
func (l *loader) unknownSetting(k value, key string, known []string, section string) {
	msg := fmt.Sprintf("systemd has no setting %q in [%s]", key, section)
	if hint := suggest(key, known); hint != "" {
		msg += fmt.Sprintf("; did you mean %q?", hint)
	}
	l.add(k, "%s", msg)
}

// settingValues reads the value or values of one setting at v, of systemd
// type typ; vars: systemd expands variables in them.
func (l *loader) settingValues(v value, typ string, vars bool) []string {
	var items []value
	switch n := v.node(); {
	case !v.present():
		l.add(v, `has no value; write "" to reset the setting`)
		return nil
	case n.Kind == yaml.ScalarNode:
		items = []value{v}
	case n.Kind == yaml.SequenceNode && len(n.Content) > 0:
		for j, c := range n.Content {
			items = append(items, at(c, v.index(j)))
		}
	default:
		l.add(v, "must be a value or a non-empty list of values")
		return nil
	}
	var out []string
	for _, it := range items {
		in := it.node()
		switch {
		case in.Kind != yaml.ScalarNode || !it.present():
			l.add(it, "must be a single value")
		case strings.ContainsAny(in.Value, "\n\r\x00"):
			l.add(it, "value must be one line")
		case strings.HasSuffix(in.Value, `\`):
			// systemd would join the next line onto this one.
			l.add(it, `value must not end with \`)
		case !vars && !l.literal(it, in.Value):
		default:
			if err := checkSettingValue(typ, in.Value); err != nil {
				l.add(it, "%v", err)
				continue
			}
			out = append(out, in.Value)
		}
	}
	return out
}
