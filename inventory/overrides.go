package inventory

import (
	"fmt"
	"maps"
	"slices"

	"gopkg.in/yaml.v3"
)

// overrideKeys are the keys of a services[].overrides entry.
func overrideKeys() []string {
	return []string{"hosts", "groups", "dropin", "artifacts", "health", "restart", "verify"}
}

// selection reads the hosts and groups keys of f, a service or an
// override: each name must be a host, or a group, of the inventory.
func (l *loader) selection(f fields) (hosts, groups []string) {
	for _, k := range []string{"hosts", "groups"} {
		if v := f.get(k); v.present() && v.node().Kind == yaml.SequenceNode && v.empty() {
			l.add(v, "empty list; name at least one, or leave %s out", k)
		}
	}
	names, from, _ := l.strs(f.get("hosts"))
	for i, n := range names {
		if _, ok := l.inv.host(n); ok {
			hosts = append(hosts, n)
			continue
		}
		_, isGroup := l.inv.Groups[n]
		_, isBastion := l.inv.bastion(n)
		switch {
		case isGroup:
			l.add(from[i], "%q is a group; list it under groups", n)
		case isBastion:
			l.add(from[i], "%q is a bastion; bastions are not rollout targets", n)
		default:
			l.unknownName(from[i], "host", n, l.inv.hostNames())
		}
	}
	names, from, _ = l.strs(f.get("groups"))
	for i, n := range names {
		if _, ok := l.inv.Groups[n]; ok {
			groups = append(groups, n)
			continue
		}
		if _, ok := l.inv.host(n); ok {
			l.add(from[i], "%q is a host; list it under hosts", n)
			continue
		}
		l.unknownName(from[i], "group", n, slices.Sorted(maps.Keys(l.inv.Groups)))
	}
	return hosts, groups
}

func (l *loader) unknownName(v value, kind, name string, known []string) {
	msg := fmt.Sprintf("unknown %s %q", kind, name)
	if s := suggest(name, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	l.add(v, "%s", msg)
}

func (inv *Inventory) hostNames() []string {
	names := make([]string, len(inv.Hosts))
	for i, h := range inv.Hosts {
		names[i] = h.Name
	}
	return names
}

// overrides reads the overrides list at v of service svc, the i-th, and
// the files their artifacts write.
func (l *loader) overrides(v value, svc Service, i int) ([]Override, []written) {
	items, _ := l.list(v, wantList)
	var out []Override
	var ws []written
	for _, it := range items {
		f, ok := l.mapping(it, overrideKeys()...)
		if !ok {
			continue
		}
		var o Override
		o.Hosts, o.Groups = l.selection(f)
		if !f.get("hosts").present() && !f.get("groups").present() {
			l.add(f.at, "give hosts or groups: the hosts this override applies to")
		}
		changes := 0
		for _, k := range []string{"dropin", "artifacts", "health", "restart", "verify"} {
			if f.get(k).present() {
				changes++
			}
		}
		if changes == 0 {
			l.add(f.at, "changes nothing: give dropin, artifacts, health, restart or verify")
		}
		o.Settings = l.overrideDropIn(f.get("dropin"), svc.DropIn.Section)
		var arts []written
		o.Artifacts, arts = l.artifacts(f.get("artifacts"), i, f.at.path)
		ws = append(ws, arts...)
		l.overrideHealth(f.get("health"), &o)
		l.overrideRestart(f.get("restart"), &o)
		l.overrideVerify(f.get("verify"), &o)
		out = append(out, o)
	}
	return out, ws
}

// overrideDropIn reads an override's dropin: settings only, since the
// drop-in's file and section are the service's.
func (l *loader) overrideDropIn(v value, section string) []Setting {
	f, ok := l.mapping(v, "settings")
	if !ok || !v.present() {
		return nil
	}
	sv := f.get("settings")
	if !sv.present() {
		if v.empty() { // other keys are reported unknown
			l.add(sv, "required: the settings this override sets")
		}
		return nil
	}
	return l.settings(sv, parseUnitKeys(), section)
}

// The override readers read a section as the service's own readers do
// (their problems are said once, where first read) and keep only the keys
// it gives.

func (l *loader) overrideHealth(v value, o *Override) {
	h := l.health(v)
	l.given(v, map[string]func(){
		"tcp":     func() { o.TCP = &h.TCP },
		"command": func() { o.Command = h.Command },
		"timeout": func() { o.HealthTimeout = &h.Timeout },
	})
}

func (l *loader) overrideRestart(v value, o *Override) {
	r := l.restart(v)
	l.given(v, map[string]func(){"old_stop_timeout": func() { o.OldStopTimeout = &r.OldStopTimeout }})
}

func (l *loader) overrideVerify(v value, o *Override) {
	vf := l.verify(v)
	l.given(v, map[string]func(){
		"allow_sigkill": func() { o.AllowSIGKILL = &vf.AllowSIGKILL },
		"max_stop":      func() { o.MaxStop = &vf.MaxStop },
		"min_in_flight": func() { o.MinInFlight = &vf.MinInFlight },
	})
}

// given calls keep for each key of the mapping at v that v gives a value;
// the section's own reader has reported its mistakes.
func (l *loader) given(v value, keep map[string]func()) {
	f, ok := l.readMapping(v, nil, "a mapping")
	if !ok {
		return
	}
	for k, set := range keep {
		if f.get(k).present() {
			set()
		}
	}
}

// selected reports each host no service selects, and each service that
// selects no host; at are the services' entries.
func (l *loader) selected(at []fields) {
	if len(l.inv.Services) != len(at) {
		return // a service entry was refused: its selection is unknown
	}
	for i, svc := range l.inv.Services {
		if !slices.ContainsFunc(l.inv.Hosts, func(t Target) bool { return selects(svc.Hosts, svc.Groups, t) }) &&
			(svc.Hosts != nil || svc.Groups != nil) {
			l.add(at[i].at, "selects no host: its hosts and groups name none")
		}
	}
	if len(l.inv.Services) == 0 {
		return
	}
	for i, t := range l.inv.Hosts {
		picked := slices.ContainsFunc(l.inv.Services, func(s Service) bool { return selects(s.Hosts, s.Groups, t) })
		if !picked && i < len(l.hostAt) {
			l.add(l.hostAt[i].at, "no service applies to host %s: add it to a service's hosts or groups, or remove it", t.Name)
		}
	}
}
