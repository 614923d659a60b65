package inventory

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var unitCharRE = regexp.MustCompile(`^[A-Za-z0-9:_.\\@-]+$`)

// unitTypes are systemd's unit type suffixes.
func unitTypes() []string {
	return []string{"service", "socket", "target", "device", "mount", "automount",
		"swap", "timer", "path", "slice", "scope"}
}

// written is a remote file the rollout writes, and where the inventory
// asks for it: by service svc, in list (the drop-in, the artifacts, or an
// override's artifacts).
type written struct {
	dest string
	at   value
	svc  int
	list string
}

// serviceKeys are the keys of a services entry.
func serviceKeys() []string {
	return []string{"unit", "hosts", "groups", "artifacts", "dropin", "health", "restart", "verify", "overrides"}
}

func (l *loader) services(v value) {
	items, ok := l.list(v, wantList)
	if ok && v.empty() {
		l.add(v, "at least one service is required")
	}
	units := make(map[string]string)
	// Every remote file fleetfix writes, artifacts and drop-ins alike: two
	// writers of one file would each back up the other's version. Drop-ins
	// go first so that a clash is blamed on the artifact, the one the
	// operator spelled out.
	var dropIns, artifacts []written
	var at []fields
	for i, it := range items {
		f, ok := l.mapping(it, serviceKeys()...)
		if !ok {
			continue
		}
		svc, unique := l.unit(f, units)
		svc.Hosts, svc.Groups = l.selection(f)
		var arts []written
		if svc.Artifacts, arts = l.artifacts(f.get("artifacts"), i, f.at.path); len(svc.Artifacts) == 0 {
			svc.Artifacts = nil
		}
		artifacts = append(artifacts, arts...)
		svc.DropIn = l.dropIn(f.get("dropin"))
		if unique {
			dropIns = append(dropIns, written{svc.DropIn.Path(svc.Unit), f.get("dropin"), i, "dropin"})
		}
		svc.Health = l.health(f.get("health"))
		svc.Restart = l.restart(f.get("restart"))
		svc.Verify = l.verify(f.get("verify"))
		svc.Overrides, arts = l.overrides(f.get("overrides"), svc, i)
		artifacts = append(artifacts, arts...)
		l.inv.Services = append(l.inv.Services, svc)
		at = append(at, f)
	}
	l.clashes(append(dropIns, artifacts...))
	l.selected(at)
}

// clashes reports each remote file written twice. An override's artifacts
// replace its service's, so they may write the service's own files again.
func (l *loader) clashes(ws []written) {
	seen := make(map[string]written)
	for _, w := range ws {
		prev, dup := seen[w.dest]
		switch {
		case !dup:
			seen[w.dest] = w
		case prev.svc != w.svc || prev.list == w.list || prev.list == "dropin":
			l.add(w.at, "%s is also written by %s", w.dest, prev.at.path)
		}
	}
}

// artifacts reads the artifacts list at v of service svc, in list.
func (l *loader) artifacts(v value, svc int, list string) ([]Artifact, []written) {
	items, ok := l.list(v, wantList)
	if !ok || items == nil {
		return nil, nil
	}
	out := []Artifact{}
	var ws []written
	for _, a := range items {
		af, ok := l.mapping(a, "src", "dest", "mode", "owner")
		if !ok {
			continue
		}
		art := l.artifact(af)
		out = append(out, art)
		if art.Dest != "" {
			ws = append(ws, written{art.Dest, af.get("dest"), svc, list})
		}
	}
	return out, ws
}

// unit reads the unit of service f; units maps the units seen so far to
// their service's path. unique is false for an invalid or repeated unit.
func (l *loader) unit(f fields, units map[string]string) (svc Service, unique bool) {
	v := f.get("unit")
	name, ok := l.str(v)
	if !ok {
		return svc, false
	}
	unit, err := normalizeUnit(name)
	svc.Unit = unit
	if err != nil {
		l.add(v, "%v", err)
	} else if prev, dup := units[unit]; dup {
		l.add(v, "duplicate unit %s, already in %s", unit, prev)
	} else {
		units[unit] = f.at.path
		unique = true
	}
	return svc, unique
}

// normalizeUnit validates a unit name by systemd's rules and, like
// systemctl, appends ".service" when the name has no unit type suffix. The
// character rules also keep shell metacharacters out of remote commands.
func normalizeUnit(name string) (string, error) {
	if name == "" {
		return "", errors.New("required")
	}
	if !unitCharRE.MatchString(name) {
		for _, r := range name {
			if !unitCharRE.MatchString(string(r)) {
				return "", fmt.Errorf("%q: invalid character %q; unit names use only letters, digits and \":-_.\\@\"", name, r)
			}
		}
	}
	if name[0] == '-' || name[0] == '.' {
		// "-x" would reach systemctl as an option.
		return "", fmt.Errorf("%q must not start with %q", name, name[0])
	}
	if i := strings.LastIndexByte(name, '.'); i < 0 || !slices.Contains(unitTypes(), name[i+1:]) {
		name += ".service"
	}
	if len(name) > maxUnitNameLen {
		return "", fmt.Errorf("unit name longer than %d characters", maxUnitNameLen)
	}
	prefix := name[:strings.LastIndexByte(name, '.')]
	if at := strings.IndexByte(prefix, '@'); at >= 0 {
		switch {
		case at == 0:
			return "", fmt.Errorf("%q: nothing before @", name)
		case at == len(prefix)-1:
			// A template cannot be restarted or health-checked; its
			// instances can.
			return "", fmt.Errorf("%q is a template; name an instance, such as %s", name, prefix+"main"+name[len(prefix):])
		}
	}
	return name, nil
}

func (l *loader) health(v value) Health {
	h := Health{Timeout: defaultHealthTimeout}
	f, ok := l.mapping(v, "tcp", "command", "timeout")
	if !ok {
		return h
	}
	tcp := f.get("tcp")
	if s, _ := l.str(tcp); s != "" {
		if err := checkHostPort(s); err != nil {
			l.add(tcp, "%v", err)
		}
		h.TCP = s
	}
	cmd := f.get("command")
	if argv, from, _ := l.strs(cmd); argv != nil {
		switch {
		case len(argv) == 0:
			l.add(cmd, "empty; leave command out for no command check")
		case argv[0] == "":
			l.add(cmd, "the program (first element) is empty")
		}
		for i, arg := range argv {
			if strings.ContainsRune(arg, 0) {
				l.add(from[i], "contains a NUL byte")
			}
		}
		h.Command = argv
	}
	if d, set := l.positive(f.get("timeout")); set {
		h.Timeout = d
	}
	return h
}

func (l *loader) restart(v value) Restart {
	var r Restart
	f, ok := l.mapping(v, "old_stop_timeout")
	if !ok {
		return r
	}
	if d, set := l.positive(f.get("old_stop_timeout")); set {
		r.OldStopTimeout = d
	}
	return r
}

// verify reads what a service's stop at the reboot must show; absent, a
// SIGKILLed stop fails and nothing else is asked.
func (l *loader) verify(v value) Verify {
	var vf Verify
	f, ok := l.mapping(v, "allow_sigkill", "max_stop", "min_in_flight")
	if !ok {
		return vf
	}
	if b := l.flag(f.get("allow_sigkill")); b != nil {
		vf.AllowSIGKILL = *b
	}
	if d, set := l.positive(f.get("max_stop")); set {
		vf.MaxStop = d
	}
	minIn := f.get("min_in_flight")
	if n, set := scalar[int](l, minIn, wantInt); set {
		if n < 0 {
			l.add(minIn, "must be 0 or more, got %d", n)
		}
		vf.MinInFlight = n
	}
	return vf
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not host:port, such as 127.0.0.1:8080", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port must be a number in 1-65535", s)
	}
	return nil
}
