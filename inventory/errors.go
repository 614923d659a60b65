package inventory

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Problem is one mistake in an inventory file.
type Problem struct {
	Path  string // the inventory file
	Line  int    // 1-based line in Path
	Field string // where in the document, e.g. hosts[2].address; empty for the whole file
	Msg   string
}

// Error formats p as "file:line: field: message", which editors and
// terminals turn into a link to the line.
func (p Problem) Error() string {
	if p.Field == "" {
		return fmt.Sprintf("%s:%d: %s", p.Path, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", p.Path, p.Line, p.Field, p.Msg)
}

// Error is every problem found in an inventory, in line order, so an
// operator can fix them all in one pass.
type Error struct {
	Problems []Problem
}

// MaxShown is how many problems Error lists before it only counts the
// rest: a generated file wrong in every entry would otherwise print
// megabytes, and the first hundred show what is wrong.
const MaxShown = 100

// Error lists the problems one per line, at most MaxShown of them, then
// "and N more problems".
func (e *Error) Error() string {
	shown := e.Problems[:min(len(e.Problems), MaxShown)]
	lines := make([]string, len(shown), len(shown)+1)
	for i, p := range shown {
		lines[i] = p.Error()
	}
	if more := len(e.Problems) - len(shown); more > 0 {
		lines = append(lines, fmt.Sprintf("and %d more problems", more))
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each Problem to errors.As.
func (e *Error) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// problems collects the problems of one inventory file.
type problems struct {
	file string
	list []Problem
}

// add records a problem at line about field.
func (p *problems) add(line int, field, format string, args ...any) {
	p.list = append(p.list, Problem{Path: p.file, Line: max(line, 1), Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	sort.SliceStable(p.list, func(i, j int) bool { return p.list[i].Line < p.list[j].Line })
	// An anchor used twice is read twice; say its mistakes once.
	list := slices.CompactFunc(p.list, func(a, b Problem) bool { return a == b })
	return &Error{Problems: list}
}
