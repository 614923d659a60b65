package inventory

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// sectionLineRE is a value that reads as a section header: written as a
// value it is harmless to systemd but a mistake of the operator's, such as
// TimeoutStopSec: "[Unit]".
var sectionLineRE = regexp.MustCompile(`^\s*\[[^\]]*\]\s*$`)

// checkSettingValue checks v as a value of a setting of systemd type typ
// (see unitkeys.txt). An empty value resets the setting and is always
// valid; types fleetfix has no parser for are only checked to be no
// section header.
func checkSettingValue(typ, v string) error {
	if v == "" {
		return nil
	}
	if sectionLineRE.MatchString(v) {
		return fmt.Errorf("%q is a section header, not a value", v)
	}
	switch typ {
	case "SECONDS":
		if _, err := ParseTimespan(v); err != nil {
			return fmt.Errorf("%q is not a systemd time span, such as 20s, 1min 30s or infinity: %w", v, err)
		}
	case "SIGNAL":
		if !isSignal(v) {
			return fmt.Errorf("%q is not a signal, such as SIGTERM or 15", v)
		}
	case "BOOLEAN":
		if !isSystemdBool(v) {
			return fmt.Errorf("%q is not a boolean: yes, no, true, false, on, off, 1 or 0", v)
		}
	case "KILLMODE":
		return oneOf(v, "control-group", "mixed", "process", "none")
	case "SERVICERESTART":
		return oneOf(v, "no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always")
	}
	return nil
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	msg := fmt.Sprintf("%q must be one of %s", v, strings.Join(allowed, ", "))
	if s := suggest(v, allowed); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return errors.New(msg)
}

// timeUnit is a unit of systemd's time spans and its length.
type timeUnit struct {
	name string
	d    time.Duration
}

// timeUnits are the units of systemd's time spans (parse_time, with its
// month of 30.44 days and year of 365.25), longest first so that "min" is
// not read as "m" then "in".
func timeUnits() []timeUnit {
	const day, month, year = 24 * time.Hour, 2629800 * time.Second, 31557600 * time.Second
	return []timeUnit{
		{"seconds", time.Second}, {"minutes", time.Minute}, {"months", month},
		{"second", time.Second}, {"minute", time.Minute}, {"month", month},
		{"msec", time.Millisecond}, {"usec", time.Microsecond}, {"hours", time.Hour},
		{"years", year}, {"weeks", 7 * day}, {"days", day}, {"hour", time.Hour},
		{"year", year}, {"week", 7 * day}, {"nsec", time.Nanosecond}, {"sec", time.Second},
		{"min", time.Minute}, {"day", day}, {"hr", time.Hour}, {"ms", time.Millisecond},
		{"us", time.Microsecond}, {"µs", time.Microsecond}, {"μs", time.Microsecond},
		{"ns", time.Nanosecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour},
		{"d", day}, {"w", 7 * day}, {"y", year}, {"M", month},
	}
}

// ParseTimespan reads s by systemd's time span grammar: "infinity" (-1), or
// numbers each with an optional unit ("20", "20s", "1min 30s", "1h30min",
// "1.5s"); a bare number is seconds. It reads both a unit file's values and
// what systemctl show prints.
func ParseTimespan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "infinity" {
		return -1, nil
	}
	if s == "" {
		return 0, errors.New("empty")
	}
	var total time.Duration
	for s != "" {
		n := len(s) - len(strings.TrimLeft(s, "0123456789."))
		num, err := strconv.ParseFloat(s[:n], 64)
		if n == 0 || err != nil {
			return 0, fmt.Errorf("expected a number at %q", s)
		}
		s = strings.TrimLeft(s[n:], " \t")
		unit := timeUnit{d: time.Second}
		for _, u := range timeUnits() {
			if strings.HasPrefix(s, u.name) {
				unit = u
				break
			}
		}
		s = s[len(unit.name):]
		if unit.name == "" && s != "" && !strings.ContainsRune("0123456789", rune(s[0])) {
			return 0, fmt.Errorf("unknown unit at %q", s)
		}
		total += time.Duration(num * float64(unit.d))
		s = strings.TrimLeft(s, " \t")
	}
	return total, nil
}

// signalNames are the signals by name, without SIG; systemd takes "SIGTERM",
// "TERM" or a number.
func signalNames() []string {
	return []string{"HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE",
		"KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD",
		"CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM",
		"PROF", "WINCH", "IO", "POLL", "PWR", "SYS"}
}

func isSignal(v string) bool {
	if n, err := strconv.Atoi(v); err == nil {
		return n >= 1 && n <= 64
	}
	name := strings.TrimPrefix(v, "SIG")
	for _, s := range signalNames() {
		if name == s {
			return true
		}
	}
	// Real-time signals: RTMIN, RTMIN+3, RTMAX-1.
	for _, rt := range []string{"RTMIN", "RTMAX"} {
		if rest, ok := strings.CutPrefix(name, rt); ok {
			if rest == "" {
				return true
			}
			n, err := strconv.Atoi(rest[1:])
			return (rest[0] == '+' || rest[0] == '-') && err == nil && n >= 0 && n <= 30
		}
	}
	return false
}

// isSystemdBool reports whether v is a boolean as systemd's parse_boolean
// reads it.
func isSystemdBool(v string) bool {
	switch strings.ToLower(v) {
	case "1", "yes", "y", "true", "t", "on", "0", "no", "n", "false", "f", "off":
		return true
	}
	return false
}
