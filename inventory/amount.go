package inventory

import (
	"fmt"
	"strconv"
	"strings"
)

// Amount is a number of hosts, given either as a count ("3") or as a
// percentage of some total ("25%"). The inventory uses it for rollout
// batches and the failure budget, where the total is only known once the
// operator's --limit has picked the hosts.
type Amount struct {
	N       int  // the count, or the percentage when Percent is set
	Percent bool // N is a percentage (0..100) of the total
}

// ParseAmount parses "N" or "N%". N must be a non-negative decimal integer;
// a percentage may not exceed 100%.
func ParseAmount(s string) (Amount, error) {
	text := strings.TrimSpace(s)
	num, percent := strings.CutSuffix(text, "%")
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		// TrimLeft rather than Atoi alone: Atoi accepts "+3" and "-3", and a
		// sign is never what an operator means by a number of hosts.
		return Amount{}, fmt.Errorf("%q is not a number of hosts such as 3 or a percentage such as 25%%", s)
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return Amount{}, fmt.Errorf("%q is too large", s)
	}
	if percent && n > 100 {
		return Amount{}, fmt.Errorf("%s is more than 100%%", text)
	}
	return Amount{N: n, Percent: percent}, nil
}

// String formats a as ParseAmount reads it.
func (a Amount) String() string {
	if a.Percent {
		return strconv.Itoa(a.N) + "%"
	}
	return strconv.Itoa(a.N)
}

// Of returns how many of total hosts a stands for. A percentage rounds up,
// so any non-zero percentage of a non-empty set is at least one host: "10%
// of 3 hosts" must still make progress. The result never exceeds total.
func (a Amount) Of(total int) int {
	if total <= 0 || a.N <= 0 {
		return 0
	}
	n := a.N
	if a.Percent {
		n = (total*a.N + 99) / 100
	}
	return min(n, total)
}
