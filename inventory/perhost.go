package inventory

import (
	"slices"
	"time"
)

// Override is a change to a service on some hosts: those it names and the
// members of the groups it names. A nil or zero field changes nothing.
type Override struct {
	Hosts, Groups []string
	// Settings set drop-in settings: each key's values replace the
	// service's values of that key, where it has it, or come after them.
	Settings []Setting
	// Artifacts, when non-nil, replace the service's artifacts.
	Artifacts []Artifact
	// Health, restart and verify keys given in the override.
	TCP            *string
	Command        []string
	HealthTimeout  *time.Duration
	OldStopTimeout *time.Duration
	AllowSIGKILL   *bool
	MaxStop        *time.Duration
	MinInFlight    *int
}

// selects reports whether a service or override that names hosts and
// groups applies to host t; naming neither applies to every host.
func selects(hosts, groups []string, t Target) bool {
	if len(hosts) == 0 && len(groups) == 0 {
		return true
	}
	return slices.Contains(hosts, t.Name) || slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(t.Groups, g) })
}

// Selection names which services and overrides apply to host t: two hosts
// with the same selection get the same ServicesOf, so a caller can resolve
// a large fleet's services once per distinct selection, not once per host.
func (inv *Inventory) Selection(t Target) string {
	b := make([]byte, 0, len(inv.Services))
	for _, svc := range inv.Services {
		if !selects(svc.Hosts, svc.Groups, t) {
			b = append(b, '-')
			continue
		}
		b = append(b, '+')
		for _, o := range svc.Overrides {
			if len(o.Hosts)+len(o.Groups) > 0 && selects(o.Hosts, o.Groups, t) {
				b = append(b, '1')
			} else {
				b = append(b, '0')
			}
		}
	}
	return string(b)
}

// ServicesOf returns the services host t gets, in file order: those that
// select it, each with the overrides that select t applied in file order.
// The services returned have no selection and no overrides left: they are
// what the host is given.
func (inv *Inventory) ServicesOf(t Target) []Service {
	var out []Service
	for _, svc := range inv.Services {
		if !selects(svc.Hosts, svc.Groups, t) {
			continue
		}
		for _, o := range svc.Overrides {
			// An override that names no host applies to none.
			if len(o.Hosts)+len(o.Groups) > 0 && selects(o.Hosts, o.Groups, t) {
				svc = o.apply(svc)
			}
		}
		svc.Hosts, svc.Groups, svc.Overrides = nil, nil, nil
		out = append(out, svc)
	}
	return out
}

// apply returns svc with o's changes.
func (o Override) apply(svc Service) Service {
	if len(o.Settings) > 0 {
		svc.DropIn.Settings = mergeSettings(svc.DropIn.Settings, o.Settings)
	}
	if o.Artifacts != nil {
		svc.Artifacts = slices.Clone(o.Artifacts)
	}
	set(&svc.Health.TCP, o.TCP)
	if o.Command != nil {
		svc.Health.Command = slices.Clone(o.Command)
	}
	set(&svc.Health.Timeout, o.HealthTimeout)
	set(&svc.Restart.OldStopTimeout, o.OldStopTimeout)
	set(&svc.Verify.AllowSIGKILL, o.AllowSIGKILL)
	set(&svc.Verify.MaxStop, o.MaxStop)
	set(&svc.Verify.MinInFlight, o.MinInFlight)
	return svc
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// mergeSettings returns base with each key of over given over's values: in
// the place of base's first line of that key (its other lines dropped), or
// at the end for a key base does not have. A repeated key (a list reset)
// keeps its lines together.
func mergeSettings(base, over []Setting) []Setting {
	byKey := make(map[string][]Setting)
	var newKeys []string
	for _, s := range over {
		if _, seen := byKey[s.Key]; !seen && !slices.ContainsFunc(base, func(b Setting) bool { return b.Key == s.Key }) {
			newKeys = append(newKeys, s.Key)
		}
		byKey[s.Key] = append(byKey[s.Key], s)
	}
	out := make([]Setting, 0, len(base)+len(over))
	placed := make(map[string]bool)
	for _, b := range base {
		repl, ok := byKey[b.Key]
		switch {
		case !ok:
			out = append(out, b)
		case !placed[b.Key]:
			out = append(out, repl...)
			placed[b.Key] = true
		}
	}
	for _, k := range newKeys {
		out = append(out, byKey[k]...)
	}
	return out
}
