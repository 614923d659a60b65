// Package ansible reads static Ansible inventories (INI and YAML, with the
// host_vars/ and group_vars/ beside them) and resolves each host's
// variables the way Ansible does, so that fleetfix can take its hosts from
// the inventory an operator already keeps.
package ansible

import "slices"

// Inventory is a parsed Ansible inventory: its hosts in the order the
// sources first name them, and its groups.
type Inventory struct {
	// Hosts are the inventory's hosts in order of first appearance.
	Hosts []*Host
	// Groups holds every group by name, "all" and "ungrouped" included.
	Groups map[string]*Group
	// Warnings are what the sources hold that this package does not read
	// (dynamic inventory scripts, plugin configurations, unknown keys).
	Warnings []string

	hosts map[string]*Host
	order []string // group names in order of first appearance
}

// Host is one inventory host.
type Host struct {
	Name string
	// Vars are the host's variables from the inventory files; FileVars those
	// of its host_vars/ entry, which Ansible ranks above them.
	Vars, FileVars map[string]any
	groups         []string // groups naming the host directly
}

// Group is one inventory group.
type Group struct {
	Name string
	// Vars are the group's variables from the inventory files; FileVars those
	// of its group_vars/ entry.
	Vars, FileVars map[string]any
	hosts          []string
	children       []string
	parents        []string
}

func newInventory() *Inventory {
	inv := &Inventory{Groups: map[string]*Group{}, hosts: map[string]*Host{}}
	inv.group("all")
	inv.group("ungrouped")
	return inv
}

// group returns the named group, adding it when new.
func (inv *Inventory) group(name string) *Group {
	if g, ok := inv.Groups[name]; ok {
		return g
	}
	g := &Group{Name: name, Vars: map[string]any{}, FileVars: map[string]any{}}
	inv.Groups[name] = g
	inv.order = append(inv.order, name)
	return g
}

// host adds (or finds) the named host as a member of group, with vars set
// over those it has.
func (inv *Inventory) host(name, group string, vars map[string]any) {
	h, ok := inv.hosts[name]
	if !ok {
		h = &Host{Name: name, Vars: map[string]any{}, FileVars: map[string]any{}}
		inv.hosts[name] = h
		inv.Hosts = append(inv.Hosts, h)
	}
	for k, v := range vars {
		h.Vars[k] = v
	}
	g := inv.group(group)
	if !slices.Contains(g.hosts, name) {
		g.hosts = append(g.hosts, name)
		h.groups = append(h.groups, group)
	}
}

// child makes child a subgroup of parent. Ansible refuses a group that
// would become its own ancestor.
func (inv *Inventory) child(parent, child string) bool {
	p, c := inv.group(parent), inv.group(child)
	if parent == child || slices.Contains(inv.ancestors(p), child) {
		return false
	}
	if !slices.Contains(p.children, child) {
		p.children = append(p.children, child)
		c.parents = append(c.parents, parent)
	}
	return true
}

// ancestors returns every group above g, each once.
func (inv *Inventory) ancestors(g *Group) []string {
	var out []string
	var walk func(*Group)
	walk = func(g *Group) {
		for _, p := range g.parents {
			if !slices.Contains(out, p) {
				out = append(out, p)
				walk(inv.Groups[p])
			}
		}
	}
	walk(g)
	return out
}

// reconcile does what Ansible does once every source is read: a group
// without a parent is a child of all, and a host in no group but all is in
// ungrouped (and only there).
func (inv *Inventory) reconcile() {
	for _, name := range inv.order {
		g := inv.Groups[name]
		if name != "all" && len(g.parents) == 0 {
			inv.child("all", name)
		}
	}
	ungrouped := inv.Groups["ungrouped"]
	for _, h := range inv.Hosts {
		others := slices.DeleteFunc(slices.Clone(h.groups), func(g string) bool { return g == "ungrouped" || g == "all" })
		switch {
		case len(others) > 0 && slices.Contains(h.groups, "ungrouped"):
			h.groups = slices.DeleteFunc(h.groups, func(g string) bool { return g == "ungrouped" })
			ungrouped.hosts = slices.DeleteFunc(ungrouped.hosts, func(n string) bool { return n == h.Name })
		case len(others) == 0 && !slices.Contains(h.groups, "ungrouped"):
			inv.host(h.Name, "ungrouped", nil)
		}
	}
}

// HostGroups returns the groups host belongs to, directly or through a
// child group, without all, in the order Ansible applies their variables.
func (inv *Inventory) HostGroups(host string) []string {
	h := inv.hosts[host]
	if h == nil {
		return nil
	}
	var out []string
	for _, name := range h.groups {
		g := inv.Groups[name]
		for _, n := range append([]string{name}, inv.ancestors(g)...) {
			if n != "all" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	inv.sortGroups(out)
	return out
}

// Members returns every host of group, its subgroups' included, in
// inventory order.
func (inv *Inventory) Members(group string) []string {
	var out []string
	for _, h := range inv.Hosts {
		if slices.Contains(inv.HostGroups(h.Name), group) || group == "all" {
			out = append(out, h.Name)
		}
	}
	return out
}

// GroupNames returns the groups in order of first appearance.
func (inv *Inventory) GroupNames() []string { return slices.Clone(inv.order) }
