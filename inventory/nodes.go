package inventory

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// What a value must be, as problems say it.
const (
	wantInt      = "a whole number"
	wantBool     = "true or false"
	wantDuration = "a duration with a unit, such as 10s or 2m"
	wantValue    = "a single value"
	wantValues   = "a list of values, such as [a, b]"
	wantList     = "a list"
	wantGroups   = "a mapping of names to lists"
)

// value is one place in the document: the node written there, the line a
// problem about it points at, and its path, such as hosts[2].port. An absent
// key's value has no node and its mapping's line, so that "required" still
// points at the entry.
type value struct {
	n    *yaml.Node // as written, alias or not; nil when absent
	line int
	path string
}

// at returns the value for node n at path.
func at(n *yaml.Node, path string) value {
	return value{n: n, line: n.Line, path: path}
}

// node returns the node v stands for, following an alias.
func (v value) node() *yaml.Node {
	n := v.n
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// present reports whether the document gives a value at v, as opposed to
// nothing or an explicit null.
func (v value) present() bool { return present(v.n) }

func present(n *yaml.Node) bool {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n != nil && n.Kind != 0 && (n.Kind != yaml.ScalarNode || n.ShortTag() != "!!null")
}

// empty reports whether v gives no value or one without elements.
func (v value) empty() bool { return !v.present() || len(v.node().Content) == 0 }

// describe says what v is, for "must be X, got Y".
func (v value) describe() string {
	switch v.node().Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	text := v.node().Value
	if r := []rune(text); len(r) > maxQuoted {
		text = string(r[:maxQuoted-3]) + "..."
	}
	return strconv.Quote(text)
}

// maxQuoted is the most characters of a wrong value a problem repeats; a
// block of text swallowed by a bad indent would otherwise fill the screen.
const maxQuoted = 40

func (v value) key(name string) string { return joinPath(v.path, name) }

func (v value) index(i int) string { return fmt.Sprintf("%s[%d]", v.path, i) }

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// fields is a mapping of the document read against the keys it accepts.
type fields struct {
	at    value            // the mapping itself
	vals  map[string]value // by key, merged keys included
	order []string         // keys in document order, merged ones last
}

// get returns the value of key; an absent key yields a value without a node
// at the mapping's line.
func (f fields) get(key string) value {
	if v, ok := f.vals[key]; ok {
		return v
	}
	return value{line: f.at.line, path: f.at.key(key)}
}

// mapping reads v as a mapping with the given keys. An absent v reads as an
// empty mapping. ok is false, and the mistake reported, when v is not a
// mapping or repeats a key: like yaml.v3, nothing of such a mapping is
// taken, so that no later check echoes the mistake.
func (l *loader) mapping(v value, keys ...string) (fields, bool) {
	return l.readMapping(v, keys, "a mapping with keys "+strings.Join(keys, ", "))
}

// readMapping is mapping with any keys allowed when keys is nil, and what
// saying what v must be.
func (l *loader) readMapping(v value, keys []string, what string) (fields, bool) {
	f := fields{at: v, vals: map[string]value{}}
	if !v.present() {
		return f, true
	}
	n := v.node()
	if n.Kind != yaml.MappingNode {
		l.add(v, "must be %s, got %s", what, v.describe())
		return f, false
	}
	if l.repeatedKeys(v) {
		return f, false
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		switch {
		case isMerge(k):
			merges = append(merges, val)
		case k.Kind != yaml.ScalarNode:
			l.add(at(k, v.path), "keys must be single values, got %s", at(k, "").describe())
		case keys != nil && !slices.Contains(keys, k.Value):
			l.unknownKey(at(k, v.key(k.Value)), keys)
		default:
			f.set(k.Value, at(val, v.key(k.Value)))
		}
	}
	for _, m := range merges {
		l.merge(&f, m, keys, what)
	}
	return f, true
}

func (f *fields) set(key string, v value) {
	f.vals[key] = v
	f.order = append(f.order, key)
}

// merge adds the keys of a "<<" merge to f, as yaml.v3 decodes them: keys
// given in f itself win, and of a list of merged mappings the first wins.
// Merged values point at the "<<" line, which is in the entry they belong to.
func (l *loader) merge(f *fields, m *yaml.Node, keys []string, what string) {
	src := []*yaml.Node{m}
	if mv := at(m, ""); mv.node().Kind == yaml.SequenceNode {
		src = mv.node().Content
	}
	for _, s := range src {
		sv := value{n: s, line: s.Line, path: f.at.path}
		if sv.node().Kind != yaml.MappingNode {
			l.add(value{line: m.Line, path: f.at.key("<<")}, "must be a mapping or a list of mappings to merge, got %s", sv.describe())
			continue
		}
		mf, ok := l.readMapping(sv, keys, what)
		if !ok {
			continue
		}
		for _, k := range mf.order {
			if _, set := f.vals[k]; !set {
				mv := mf.vals[k]
				mv.line = m.Line
				f.set(k, mv)
			}
		}
	}
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// repeatedKeys reports each key of mapping v given more than once.
func (l *loader) repeatedKeys(v value) bool {
	n := v.node()
	first := make(map[string]int)
	found := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		if line, dup := first[k.Value]; dup {
			l.add(at(k, v.key(k.Value)), "key %q repeated (first at line %d)", k.Value, line)
			found = true
			continue
		}
		first[k.Value] = k.Line
	}
	return found
}

func (l *loader) unknownKey(k value, keys []string) {
	name := k.node().Value
	msg := fmt.Sprintf("unknown key %q", name)
	if s := suggest(name, keys); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += "; expected one of: " + strings.Join(keys, ", ")
	}
	l.add(k, "%s", msg)
}

// list returns the items of the list at v; an absent v has none. ok is
// false, and the mistake reported, when v is not a list. Null items are
// reported and left out.
func (l *loader) list(v value, what string) (items []value, ok bool) {
	if !v.present() {
		return nil, true
	}
	n := v.node()
	if n.Kind != yaml.SequenceNode {
		l.add(v, "must be %s, got %s", what, v.describe())
		return nil, false
	}
	items = []value{}
	for i, c := range n.Content {
		item := at(c, v.index(i))
		if !item.present() {
			// Usually a host or a value left half-deleted.
			l.add(item, "empty entry")
			continue
		}
		items = append(items, item)
	}
	return items, true
}

// scalar decodes the single value at v into a T by yaml.v3's rules for T,
// so 0x10 is 16 and an unquoted yes is true wherever they were. It reports
// v, saying it must be what, if it is not a T. set is false when v is
// absent or wrong.
func scalar[T any](l *loader, v value, what string) (out T, set bool) {
	if !v.present() {
		return out, false
	}
	if n := v.node(); n.Kind != yaml.ScalarNode || n.Decode(&out) != nil {
		l.add(v, "must be %s, got %s", what, v.describe())
		var zero T
		return zero, false
	}
	return out, true
}

// str reads a single value; an absent one reads as "". ok is false when v
// is not a single value (reported).
func (l *loader) str(v value) (s string, ok bool) {
	if !v.present() {
		return "", true
	}
	s, ok = scalar[string](l, v, wantValue)
	if ok && !l.literal(v, s) {
		return "", false
	}
	return s, ok
}

// matching reads an optional single value and reports one that re does
// not match; format says why, given the value.
func (l *loader) matching(v value, re *regexp.Regexp, format string) string {
	s, _ := l.str(v)
	if s != "" && !re.MatchString(s) {
		l.add(v, format, s)
	}
	return s
}

// flag reads true or false; nil means absent or wrong.
func (l *loader) flag(v value) *bool {
	if b, set := scalar[bool](l, v, wantBool); set {
		return &b
	}
	return nil
}

// positive reads a duration and reports one that is not above zero.
func (l *loader) positive(v value) (time.Duration, bool) {
	d, set := scalar[time.Duration](l, v, wantDuration)
	if set && d <= 0 {
		l.add(v, "must be positive, got %s", d)
	}
	return d, set
}

// strs reads a list of single values, along with where each came from.
// Absent is nil; a given empty list is empty, not nil. ok is false when v
// is not a list (reported); items that are not single values are reported
// and left out.
func (l *loader) strs(v value) (list []string, from []value, ok bool) {
	items, ok := l.list(v, wantValues)
	if items == nil {
		return nil, nil, ok
	}
	list = []string{}
	for _, it := range items {
		if s, set := scalar[string](l, it, wantValue); set && l.literal(it, s) {
			list = append(list, s)
			from = append(from, it)
		}
	}
	return list, from, true
}
