package suggest

import (
	"strconv"
	"strings"
	"time"
)

// parseTimespan reads a time span as systemctl show prints it ("1min 30s",
// "3s", "500ms", "infinity"). ok is false for infinity or a span it cannot
// read: no bound known.
func parseTimespan(s string) (time.Duration, bool) {
	units := []struct {
		suffix string
		d      time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"min", time.Minute}, {"s", time.Second}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	var total time.Duration
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return 0, false
	}
	for _, f := range fields {
		matched := false
		for _, u := range units {
			if num, ok := strings.CutSuffix(f, u.suffix); ok {
				v, err := strconv.ParseFloat(num, 64)
				if err != nil {
					continue
				}
				total += time.Duration(v * float64(u.d))
				matched = true
				break
			}
		}
		if !matched {
			return 0, false
		}
	}
	return total, true
}

// span renders d in seconds (or milliseconds below one), a form every
// systemd time setting takes.
func span(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10) + "s"
}
