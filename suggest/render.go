package suggest

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/duration"
)

// fixTimeout is the stop bound of fleetfix's default drop-in: a hang ends
// after it instead of systemd's 90 s.
const fixTimeout = 20 * time.Second

// Render writes the services: entries that fix the units of results, with
// a header comment of the evidence: how many hosts were read, and per unit
// its hosts, stop times, SIGKILL counts and current settings. It returns
// nil when the scan found nothing to fix.
func Render(results []fleet.ScanResult, o Options) []byte {
	units := Units(results, o.Slow)
	if len(units) == 0 {
		return nil
	}
	var b bytes.Buffer
	header(&b, results, units, o)
	b.WriteString("services:\n")
	for _, u := range units {
		b.WriteString("\n")
		o.service(&b, u, answered(results))
	}
	return b.Bytes()
}

func answered(results []fleet.ScanResult) []string {
	var out []string
	for _, r := range results {
		if r.Err() == nil && r.Note == "" {
			out = append(out, r.Host)
		}
	}
	return out
}

func header(b *bytes.Buffer, results []fleet.ScanResult, units []Unit, o Options) {
	slow := cmp0(o.Slow, DefaultSlow)
	read := answered(results)
	fmt.Fprintf(b, "# fleetfix scan --suggest: the services: entries that fix the units the last\n")
	fmt.Fprintf(b, "# shutdown SIGKILLed or waited %s or more on, from the journals of %d of the\n", span(slow), len(read))
	fmt.Fprintf(b, "# %d hosts scanned", len(results))
	if o.Source != "" {
		fmt.Fprintf(b, " (%s)", o.Source)
	}
	b.WriteString(".\n")
	for _, r := range results {
		switch {
		case r.Err() != nil:
			fmt.Fprintf(b, "# not read: %s: %s\n", r.Host, oneLine(r.Error))
		case r.Note != "":
			fmt.Fprintf(b, "# not read: %s: %s\n", r.Host, r.Note)
		}
	}
	b.WriteString("# Review every entry, fill in the TODOs, merge the entries into the inventory\n")
	b.WriteString("# (or keep this file and give it the hosts with --hosts-from), then run\n")
	b.WriteString("# fleetfix plan on it.\n#\n# Evidence:\n")
	for _, u := range units {
		fmt.Fprintf(b, "#   %s: on %d host%s; SIGKILLed on %d; stop %s", u.Name, len(u.Stops), plural(len(u.Stops)), u.killed(), stopRange(u))
		fmt.Fprintf(b, "; TimeoutStopSec %s; KillMode %s\n", orUnknown(u.distinct(func(s Stop) string { return s.TimeoutStop })), orUnknown(u.distinct(func(s Stop) string { return s.KillMode })))
		for _, s := range u.Stops {
			fmt.Fprintf(b, "#     %s: %s\n", s.Host, fleet.DescribeStop(&s.UnitStop, ""))
		}
	}
	b.WriteString("\n")
}

// service writes one unit's entry.
func (o Options) service(b *bytes.Buffer, u Unit, read []string) {
	fmt.Fprintf(b, "  - unit: %s\n", u.Name)
	o.selection(b, u, read)
	exec := u.distinct(func(s Stop) string { return s.ExecPath })
	b.WriteString("    # artifacts: TODO the fixed build, if the fix is more than this drop-in:\n")
	dest := "/path/on/the/host"
	if len(exec) == 1 {
		dest = exec[0]
	}
	fmt.Fprintf(b, "    #   - src: TODO/local/path/of/the/fixed/build\n    #     dest: %s\n    #     mode: \"0755\"\n", dest)
	timeout, why := u.timeout()
	fmt.Fprintf(b, "    dropin:\n      settings:\n        # %s\n", why)
	fmt.Fprintf(b, "        TimeoutStopSec: %s\n", span(timeout))
	fmt.Fprintf(b, "        # SIGTERM to the main process, SIGKILL to whatever of the unit is left at the\n        # timeout (KillMode now: %s).\n", orUnknown(u.distinct(func(s Stop) string { return s.KillMode })))
	b.WriteString("        KillMode: mixed\n        KillSignal: SIGTERM\n        FinalKillSignal: SIGKILL\n")
	if u.killed() > 0 {
		b.WriteString("    # The build hangs on SIGTERM: bound the old build's stop at the rollout's\n")
		b.WriteString("    # restart too, rather than wait out the new TimeoutStopSec.\n")
		b.WriteString("    # restart:\n    #   old_stop_timeout: 5s\n")
	}
	health(b, u)
}

// selection names the unit's hosts, unless it is on every host read: as a
// group when they are exactly one group's members, else host by host.
func (o Options) selection(b *bytes.Buffer, u Unit, read []string) {
	hosts := u.hosts()
	if len(hosts) == len(read) {
		return
	}
	if o.Inventory != nil {
		for _, g := range sortedGroups(o.Inventory.Groups) {
			if members := o.Inventory.Groups[g]; slices.Equal(sorted(members), sorted(hosts)) {
				fmt.Fprintf(b, "    groups: [%s]\n", g)
				return
			}
		}
	}
	fmt.Fprintf(b, "    hosts: [%s]\n", strings.Join(hosts, ", "))
}

// timeout is the TimeoutStopSec to suggest, and why. A stop that hung into
// SIGKILL gets fleetfix's 20 s bound (or the unit's own, when lower: it
// hung past that already). A slow but clean stop keeps room for its
// longest observed stop, half again, whole seconds, never below 20 s nor
// above what the unit has today.
func (u Unit) timeout() (time.Duration, string) {
	cur, known := u.currentTimeout()
	if u.killed() > 0 {
		if known && cur < fixTimeout {
			return cur, fmt.Sprintf("The stop hung past TimeoutStopSec %s on %d host%s: keep that bound.", span(cur), u.killed(), plural(u.killed()))
		}
		return fixTimeout, fmt.Sprintf("The stop hung past TimeoutStopSec %s on %d host%s: bound the hang.", orUnknown(u.distinct(func(s Stop) string { return s.TimeoutStop })), u.killed(), plural(u.killed()))
	}
	want := max(fixTimeout, (u.longest()*3/2+time.Second-1)/time.Second*time.Second)
	if known && want > cur {
		want = cur
	}
	return want, fmt.Sprintf("The slowest clean stop took %s: room for it, half again.", span(u.longest()))
}

// currentTimeout is the lowest TimeoutStopSec the unit has on its hosts.
func (u Unit) currentTimeout() (time.Duration, bool) {
	var cur time.Duration
	known := false
	for _, s := range u.Stops {
		if d, ok := parseTimespan(s.TimeoutStop); ok && (!known || d < cur) {
			cur, known = d, true
		}
	}
	return cur, known
}

// health suggests a TCP check on the port every host's unit listens on,
// the lowest if several, at the address it listens on (loopback for a
// wildcard).
func health(b *bytes.Buffer, u Unit) {
	addrs := map[int][]string{} // port -> check address per host
	for _, s := range u.Stops {
		for _, l := range s.Listen {
			host, p, err := net.SplitHostPort(l)
			port, perr := strconv.Atoi(p)
			if err != nil || perr != nil {
				continue
			}
			switch host {
			case "*", "0.0.0.0", "::", "[::]":
				host = "127.0.0.1"
			}
			if c := net.JoinHostPort(strings.Trim(host, "[]"), p); !slices.Contains(addrs[port], c) {
				addrs[port] = append(addrs[port], c)
			}
		}
	}
	var ports []int
	for p := range addrs {
		if onEvery(u, p) {
			ports = append(ports, p)
		}
	}
	slices.Sort(ports)
	if len(ports) == 0 {
		b.WriteString("    # health: TODO how to tell it works after the restart; the scan saw it\n    # listen on no TCP port on every host.\n")
		return
	}
	check := addrs[ports[0]]
	if len(check) > 1 {
		fmt.Fprintf(b, "    # health: TODO it listens on port %d at a different address on each host (%s).\n", ports[0], strings.Join(check, ", "))
		return
	}
	fmt.Fprintf(b, "    health:\n      tcp: %s\n", check[0])
}

// onEvery reports whether the unit listens on port on every host.
func onEvery(u Unit, port int) bool {
	for _, s := range u.Stops {
		if !slices.ContainsFunc(s.Listen, func(l string) bool { return strings.HasSuffix(l, ":"+strconv.Itoa(port)) }) {
			return false
		}
	}
	return true
}

func stopRange(u Unit) string {
	lo, hi := u.shortest(), u.longest()
	if hi-lo < 50*time.Millisecond {
		return duration.Stop(hi)
	}
	return duration.Stop(lo) + "-" + duration.Stop(hi)
}

func orUnknown(vals []string) string {
	if len(vals) == 0 {
		return "unknown"
	}
	return strings.Join(vals, " / ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

func cmp0(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func sortedGroups(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
