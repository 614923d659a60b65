package inventory

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
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
		if err := checkTimespan(v); err != nil {
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

// timeUnits are the units of systemd's time spans (parse_time), longest
// first so that "min" is not read as "m" then "in".
func timeUnits() []string {
	return []string{"seconds", "minutes", "months", "second", "minute", "month",
		"msec", "usec", "hours", "years", "weeks", "days", "hour", "year", "week",
		"nsec", "sec", "min", "day", "hr", "ms", "us", "µs", "μs", "ns",
		"s", "m", "h", "d", "w", "y", "M"}
}

// checkTimespan checks s by systemd's time span grammar: "infinity", or
// numbers each with an optional unit ("20", "20s", "1min 30s", "1h30min",
// "1.5s"); a bare number is seconds.
func checkTimespan(s string) error {
	s = strings.TrimSpace(s)
	if s == "infinity" {
		return nil
	}
	if s == "" {
		return errors.New("empty")
	}
	for s != "" {
		n := len(s) - len(strings.TrimLeft(s, "0123456789."))
		num := s[:n]
		if n == 0 || strings.Count(num, ".") > 1 || num == "." {
			return fmt.Errorf("expected a number at %q", s)
		}
		s = strings.TrimLeft(s[n:], " \t")
		unit := ""
		for _, u := range timeUnits() {
			if strings.HasPrefix(s, u) {
				unit = u
				break
			}
		}
		s = s[len(unit):]
		if unit == "" && s != "" && !strings.ContainsRune("0123456789", rune(s[0])) {
			return fmt.Errorf("unknown unit at %q", s)
		}
		s = strings.TrimLeft(s, " \t")
	}
	return nil
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
