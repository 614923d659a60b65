package ansible

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	iniSectionRE = regexp.MustCompile(`^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`)
	iniGroupRE   = regexp.MustCompile(`^([^:\]\s]+)\s*(?:#.*)?$`)
)

// pendingDecl is a [g:vars] or [g:children] reference to a group not yet
// declared, which Ansible accepts only if the declaration follows.
type pendingDecl struct {
	line    int
	vars    bool
	parents []string
}

// parseINI reads an inventory in Ansible's INI format into inv, with
// Ansible's rules: hosts before any section are ungrouped, [g:vars] and
// [g:children] name groups declared somewhere in the file.
func parseINI(inv *Inventory, path string, data []byte) error {
	pending := map[string]*pendingDecl{}
	group, state := "ungrouped", "hosts"
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", path, n, fmt.Sprintf(format, args...))
		}
		if m := iniSectionRE.FindStringSubmatch(line); m != nil {
			group, state = m[1], m[2]
			if state == "" {
				state = "hosts"
			}
			if state != "hosts" && state != "children" && state != "vars" {
				return fail("section [%s:%s] has unknown type: %s", group, state, state)
			}
			if _, ok := inv.Groups[group]; !ok {
				if state == "vars" && pending[group] == nil {
					pending[group] = &pendingDecl{line: n, vars: true}
				}
				inv.group(group)
			}
			if p := pending[group]; p != nil && state != "vars" {
				if err := inv.resolvePending(group, pending); err != nil {
					return fail("%v", err)
				}
			}
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			return fail("invalid section entry: %q; make sure that there are no spaces or other invalid characters in it", line)
		}
		var err error
		switch state {
		case "hosts":
			err = inv.iniHost(group, line)
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return fail("expected key=value, got: %s", line)
			}
			inv.Groups[group].Vars[strings.TrimSpace(k)] = literal(strings.TrimSpace(v))
		case "children":
			m := iniGroupRE.FindStringSubmatch(line)
			if m == nil {
				return fail("expected group name, got: %s", line)
			}
			child := m[1]
			if _, ok := inv.Groups[child]; !ok {
				if pending[child] == nil {
					pending[child] = &pendingDecl{line: n}
				}
				pending[child].parents = append(pending[child].parents, group)
			} else if !inv.child(group, child) {
				err = fmt.Errorf("group %s cannot be a child of itself or of its own child %s", child, group)
			}
		}
		if err != nil {
			return fail("%v", err)
		}
	}
	// Ansible reports the first unresolved reference only.
	first := ""
	for g, p := range pending {
		if first == "" || p.line < pending[first].line {
			first = g
		}
	}
	if p := pending[first]; p != nil {
		if p.vars {
			return fmt.Errorf("%s:%d: section [%s:vars] not valid for undefined group: %s", path, p.line, first, first)
		}
		return fmt.Errorf("%s:%d: section [%s:children] includes undefined group: %s", path, p.line, p.parents[len(p.parents)-1], first)
	}
	return nil
}

// resolvePending attaches group to the parents that named it before it was
// declared, and so on up.
func (inv *Inventory) resolvePending(group string, pending map[string]*pendingDecl) error {
	p := pending[group]
	delete(pending, group)
	if p.vars {
		return nil
	}
	for _, parent := range p.parents {
		if !inv.child(parent, group) {
			return fmt.Errorf("group %s cannot be a child of itself or of its own child %s", group, parent)
		}
		if pp := pending[parent]; pp != nil && !pp.vars {
			if err := inv.resolvePending(parent, pending); err != nil {
				return err
			}
		}
	}
	return nil
}

// iniHost reads a host line: a host pattern, then key=value variables.
func (inv *Inventory) iniHost(group, line string) error {
	tokens, err := shlexSplit(line)
	if err != nil {
		return fmt.Errorf("error parsing host definition %q: %w", line, err)
	}
	if len(tokens) == 0 {
		return nil
	}
	hosts, port, err := expandPattern(tokens[0])
	if err != nil {
		return err
	}
	vars := map[string]any{}
	for _, t := range tokens[1:] {
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			return fmt.Errorf("expected key=value host variable assignment, got: %s", t)
		}
		vars[k] = literal(v)
	}
	if port != 0 {
		vars["ansible_port"] = port
	}
	for _, h := range hosts {
		inv.host(h, group, vars)
	}
	return nil
}

// shlexSplit splits a line as Python's shlex.split(line, comments=True)
// does: POSIX quoting and escapes, and # starting a comment anywhere
// outside quotes.
func shlexSplit(s string) ([]string, error) {
	var out []string
	var tok strings.Builder
	inTok := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			if inTok {
				out = append(out, tok.String())
				tok.Reset()
				inTok = false
			}
		case '#':
			i = len(s)
		case '\\':
			inTok = true
			if i+1 < len(s) {
				i++
				tok.WriteByte(s[i])
			}
		case '\'', '"':
			inTok = true
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if c == '"' && s[j] == '\\' && j+1 < len(s) && strings.IndexByte("\\\"$`", s[j+1]) >= 0 {
					j++
				}
				tok.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("no closing quotation")
			}
			i = j
		default:
			inTok = true
			tok.WriteByte(c)
		}
	}
	if inTok {
		out = append(out, tok.String())
	}
	return out, nil
}

var (
	pyIntRE   = regexp.MustCompile(`^[+-]?(0|[1-9][0-9]*)$`)
	pyFloatRE = regexp.MustCompile(`^[+-]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
)

// literal reads an INI value as Ansible does with Python's ast.literal_eval:
// numbers, booleans, None and quoted strings become values (a # comment
// after one is dropped); anything else stays the text as written.
// Containers ([...], {...}) stay text here: fleetfix reads none.
func literal(v string) any {
	if x, ok := pyLiteral(v); ok {
		return x
	}
	if i := strings.IndexByte(v, '#'); i >= 0 {
		if x, ok := pyLiteral(strings.TrimSpace(v[:i])); ok {
			return x
		}
	}
	return v
}

func pyLiteral(v string) (any, bool) {
	switch {
	case v == "True":
		return true, true
	case v == "False":
		return false, true
	case v == "None":
		return nil, true
	case pyIntRE.MatchString(v):
		n, err := strconv.Atoi(v)
		return n, err == nil
	case pyFloatRE.MatchString(v):
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	case len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0]:
		body := v[1 : len(v)-1]
		if strings.ContainsRune(body, rune(v[0])) && !strings.Contains(body, "\\") {
			return nil, false
		}
		if !strings.Contains(body, "\\") {
			return body, true
		}
		s, err := strconv.Unquote(`"` + strings.ReplaceAll(body, `"`, `\"`) + `"`)
		return s, err == nil
	}
	return nil, false
}
