package ansible

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// letters is Python's string.ascii_letters, the alphabet of Ansible's
// alphabetic host ranges ([a:f]).
const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// expandPattern turns a host pattern of an inventory (web[01:20].example.com,
// db-[a:c], host:2222, [2001:db8::1]:22) into its host names and the port it
// gives them (0: none).
func expandPattern(pattern string) ([]string, int, error) {
	pattern = strings.TrimSpace(pattern)
	name, port, err := splitPort(pattern)
	if err != nil {
		return nil, 0, err
	}
	if name == "" {
		return nil, 0, errors.New("empty host name")
	}
	if name == "---" {
		return nil, 0, fmt.Errorf("invalid host pattern %q: '---' is normally a sign this is a YAML file", pattern)
	}
	hosts, err := expandRanges(name)
	return hosts, port, err
}

// splitPort splits a trailing :PORT off a pattern when what precedes it has
// no colon outside brackets (a bare IPv6 address has no port).
func splitPort(p string) (string, int, error) {
	if strings.HasSuffix(p, ":") {
		return "", 0, fmt.Errorf("invalid host pattern %q: ending in ':' is not allowed, this character is reserved to provide a port", p)
	}
	i := strings.LastIndexByte(p, ':')
	if i < 0 {
		return p, 0, nil
	}
	head, tail := p[:i], p[i+1:]
	n, err := strconv.Atoi(tail)
	if err != nil || strings.ContainsAny(outsideBrackets(head), ":") {
		return p, 0, nil
	}
	if n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("invalid host pattern %q: port %d out of range", p, n)
	}
	if strings.HasPrefix(head, "[") && strings.HasSuffix(head, "]") && strings.Count(head, ":") >= 2 {
		head = head[1 : len(head)-1] // [IPv6]:port
	}
	return head, n, nil
}

// outsideBrackets drops the [...] parts of s.
func outsideBrackets(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '[':
			depth++
		case r == ']' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// expandRanges expands every [beg:end] or [beg:end:step] range of name,
// numeric (zero-padded when beg is) or alphabetic, as Ansible's
// expand_hostname_range does.
func expandRanges(name string) ([]string, error) {
	open := strings.IndexByte(name, '[')
	if open < 0 {
		return []string{name}, nil
	}
	end := strings.IndexByte(name[open:], ']')
	if end < 0 {
		return nil, fmt.Errorf("host pattern %q: '[' without ']'", name)
	}
	head, rng, tail := name[:open], name[open+1:open+end], name[open+end+1:]
	seq, err := rangeSeq(rng)
	if err != nil {
		return nil, fmt.Errorf("host pattern %q: %w", name, err)
	}
	var out []string
	for _, s := range seq {
		more, err := expandRanges(head + s + tail)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

func rangeSeq(rng string) ([]string, error) {
	b := strings.Split(rng, ":")
	if len(b) != 2 && len(b) != 3 {
		return nil, errors.New("host range must be begin:end or begin:end:step")
	}
	beg, end, step := b[0], b[1], 1
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return nil, errors.New("host range must specify end value")
	}
	if len(b) == 3 {
		n, err := strconv.Atoi(b[2])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("host range step %q is not a positive number", b[2])
		}
		step = n
	}
	width := 0
	if beg[0] == '0' && len(beg) > 1 {
		if len(beg) != len(end) {
			return nil, errors.New("host range must specify equal-length begin and end formats")
		}
		width = len(beg)
	}
	var seq []string
	ib, ie := strings.Index(letters, beg), strings.Index(letters, end)
	if len(beg) == 1 && len(end) == 1 && ib >= 0 && ie >= 0 {
		if ib > ie {
			return nil, errors.New("host range must have begin <= end")
		}
		for i := ib; i <= ie; i += step {
			seq = append(seq, letters[i:i+1])
		}
		return seq, nil
	}
	nb, err1 := strconv.Atoi(beg)
	ne, err2 := strconv.Atoi(end)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("host range %q is neither numeric nor alphabetic", rng)
	}
	if ne-nb > 100000 {
		return nil, fmt.Errorf("host range %q names over 100000 hosts", rng)
	}
	for i := nb; i <= ne; i += step {
		seq = append(seq, fmt.Sprintf("%0*d", width, i))
	}
	return seq, nil
}
