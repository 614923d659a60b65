package sshcfg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	sshconfig "github.com/kevinburke/ssh_config"
)

// criterion is one criterion of a Match line: "all", or a name (host,
// originalhost, user, localuser) and its pattern list. negate is a
// leading "!" on the name, which inverts the criterion's result.
type criterion struct {
	name     string
	patterns string
	negate   bool
}

// matchRule is a Match line fleetfix evaluates: its block applies when
// every criterion holds, as in ssh(1).
type matchRule []criterion

// target is what a Match line is evaluated against: the values obtained
// from the lines read before it, as ssh(1) evaluates it in its pass
// through the files.
type target struct {
	host         string // HostName so far, %h expanded; else the alias
	originalHost string // the alias
	user         string // User so far; else the local user
	localUser    string
}

func (r matchRule) matches(t target) bool {
	for _, c := range r {
		var ok bool
		switch c.name {
		case "all":
			ok = true
		case "host":
			ok = matchList(t.host, c.patterns, true)
		case "originalhost":
			ok = matchList(t.originalHost, c.patterns, true)
		case "user":
			ok = matchList(t.user, c.patterns, false)
		case "localuser":
			ok = matchList(t.localUser, c.patterns, false)
		}
		if ok == c.negate {
			return false
		}
	}
	return true
}

var (
	errNoCriteria = errors.New("no criteria")
	errAllAlone   = errors.New(`"all" cannot be combined with other criteria`)
	errNoPatterns = errors.New("no patterns")
)

// parseMatch reads the criteria of a Match line (the words after
// "Match"). ok is false for a line with a criterion fleetfix does not
// evaluate (exec, tagged, localnetwork, ...), whose block is then left
// out; the error is for a line ssh(1) refuses too. "canonical" and "final"
// hold: fleetfix resolves once, without canonicalization, so its one pass
// is the final one.
func parseMatch(args []string) (rule matchRule, ok bool, err error) {
	if len(args) == 0 {
		return nil, false, errNoCriteria
	}
	attributes := 0 // criteria before "all", counted as ssh(1) does
	for i := 0; i < len(args); i++ {
		name := strings.ToLower(args[i])
		negate := strings.HasPrefix(name, "!")
		name = strings.TrimPrefix(name, "!")
		switch name {
		case "all":
			if attributes > 1 || i+1 < len(args) {
				return nil, false, errAllAlone
			}
			rule = append(rule, criterion{name: name, negate: negate})
		case "canonical", "final":
			if negate {
				return nil, false, nil
			}
			attributes++
		case "host", "originalhost", "user", "localuser":
			if i+1 == len(args) {
				return nil, false, fmt.Errorf("%s: %w", args[i], errNoPatterns)
			}
			i++
			rule = append(rule, criterion{name: name, patterns: args[i], negate: negate})
			attributes++
		default:
			return nil, false, nil
		}
	}
	return rule, true, nil
}

// matchList tells whether s matches the comma-separated pattern list, as
// OpenSSH's match_pattern_list does: some entry matches and no negated
// ("!pattern") one does. fold compares case-insensitively, as for host
// names.
func matchList(s, list string, fold bool) bool {
	if fold {
		s, list = strings.ToLower(s), strings.ToLower(list)
	}
	return matchPatterns(s, strings.Split(list, ","))
}

// matchPatterns tells whether s matches some pattern and no negated
// ("!pattern") one, as a Host line's patterns and a Match list's entries
// are read.
func matchPatterns(s string, patterns []string) bool {
	matched := false
	for _, p := range patterns {
		pat, negated := strings.CutPrefix(p, "!")
		switch {
		case !glob(pat, s):
		case negated:
			return false
		default:
			matched = true
		}
	}
	return matched
}

// glob matches s against an ssh_config pattern: "*" stands for any run of
// characters, "?" for exactly one, anything else for itself.
func glob(pattern, s string) bool {
	p, i := 0, 0
	star, from := -1, 0 // the last "*" seen, and where its run ends so far
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, from = p, i
			p++
		case star >= 0:
			from++
			p, i = star+1, from
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchArgs splits the arguments of a config line as OpenSSH's strdelim
// does: blanks or an "=" separate, double quotes group.
func matchArgs(s string) []string {
	var args []string
	var arg strings.Builder
	quoted, inArg := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quoted, inArg = !quoted, true
		case !quoted && (c == ' ' || c == '\t' || c == '=' || c == '\r'):
			if inArg {
				args = append(args, arg.String())
				arg.Reset()
				inArg = false
			}
		default:
			arg.WriteByte(c)
			inArg = true
		}
	}
	if inArg {
		args = append(args, arg.String())
	}
	return args
}

// ruleHost is the Host line a Match line fleetfix evaluates becomes for
// the parser: a pattern no alias matches, naming the rule, so that the
// block keeps its place and its line numbers.
func ruleHost(i int) string { return "Host " + rulePrefix + strconv.Itoa(i) + ruleSuffix }

const rulePrefix, ruleSuffix = "fleetfix.match-", ".invalid"

// rule returns the Match rule a parsed Host block stands in for, if any.
func (f *file) rule(host *sshconfig.Host) (matchRule, bool) {
	if len(host.Patterns) != 1 {
		return nil, false
	}
	s, ok := strings.CutPrefix(host.Patterns[0].String(), rulePrefix)
	if !ok {
		return nil, false
	}
	s, ok = strings.CutSuffix(s, ruleSuffix)
	if !ok {
		return nil, false
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= len(f.rules) {
		return nil, false
	}
	return f.rules[i], true
}
