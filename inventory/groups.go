package inventory

import (
	"fmt"
	"maps"
	"slices"
)

// grouping gathers group memberships from hosts[].groups and the groups
// section alike.
type grouping struct {
	l         *loader
	hostIdx   map[string]int             // host name -> first index
	isBastion map[string]bool            // bastion names
	member    map[string]map[string]bool // group -> host names
	collided  map[string]bool            // names already refused as groups
	listed    map[string]value           // the groups section, by group
}

// groups merges hosts[].groups and the groups section v into
// Inventory.Groups and each Target.Groups.
func (l *loader) groups(v value) {
	g := &grouping{l: l, hostIdx: map[string]int{}, isBastion: map[string]bool{},
		member: map[string]map[string]bool{}, collided: map[string]bool{}}
	for i, h := range l.inv.Hosts {
		if _, dup := g.hostIdx[h.Name]; !dup {
			g.hostIdx[h.Name] = i
		}
	}
	for _, b := range l.inv.Bastions {
		g.isBastion[b.Name] = true
	}
	for i, f := range l.hostAt {
		names, from, _ := l.strs(f.get("groups"))
		for j, name := range names {
			if g.validName(name, from[j]) {
				g.join(name, i)
			}
		}
	}
	section, _ := l.readMapping(v, nil, wantGroups)
	g.listed = section.vals
	for _, name := range section.order {
		g.section(name, section.vals[name])
	}
	l.inv.Groups = make(map[string][]string, len(g.member))
	for name, set := range g.member {
		list := []string{}
		for _, h := range l.inv.Hosts {
			if set[h.Name] {
				list = append(list, h.Name)
			}
		}
		l.inv.Groups[name] = list
	}
}

func (g *grouping) join(group string, hostIndex int) {
	if g.member[group] == nil {
		g.member[group] = make(map[string]bool)
	}
	h := &g.l.inv.Hosts[hostIndex]
	if !g.member[group][h.Name] {
		g.member[group][h.Name] = true
		if !slices.Contains(h.Groups, group) {
			h.Groups = append(h.Groups, group)
		}
	}
}

// validName checks a group name given at v.
func (g *grouping) validName(name string, v value) bool {
	_, isHost := g.hostIdx[name]
	switch {
	case !nameRE.MatchString(name):
		g.l.add(v, "%q is not a valid group name: use letters, digits, '.', '_' and '-', starting with a letter or digit", name)
		return false
	case isHost, g.isBastion[name]:
		// --limit takes host and group names alike, so one name must
		// not mean both.
		if !g.collided[name] {
			g.collided[name] = true
			kind := "host"
			if g.isBastion[name] {
				kind = "bastion"
			}
			g.l.add(v, "group %q has the name of a %s", name, kind)
		}
		return false
	}
	return true
}

// section reads the members v of group name in the groups section.
func (g *grouping) section(name string, v value) {
	members, from, ok := g.l.strs(v)
	if !ok || !g.validName(name, v) {
		return
	}
	if g.member[name] == nil {
		g.member[name] = make(map[string]bool) // an empty group still exists
	}
	for j, m := range members {
		if i, ok := g.hostIdx[m]; ok {
			g.join(name, i)
			continue
		}
		_, isGroup := g.member[m]
		_, listed := g.listed[m]
		switch {
		case m == "":
			g.l.add(from[j], "empty host name")
		case g.isBastion[m]:
			g.l.add(from[j], "%q is a bastion; bastions are not rollout targets", m)
		case isGroup, listed:
			g.l.add(from[j], "%q is a group; groups list hosts, not other groups", m)
		default:
			msg := fmt.Sprintf("unknown host %q", m)
			if s := suggest(m, slices.Sorted(maps.Keys(g.hostIdx))); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			g.l.add(from[j], "%s", msg)
		}
	}
}
