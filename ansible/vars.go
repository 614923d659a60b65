package ansible

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
)

// Vars returns host's variables resolved as Ansible resolves them without
// a playbook (ansible-inventory --list): all's inventory vars, then each
// other group's in sort order, then group_vars/all, then group_vars/ of each
// group, then the host's inventory vars, then its host_vars/. Later wins,
// key by key; values are not merged deeper (Ansible's hash_behaviour
// replace).
func (inv *Inventory) Vars(host string) map[string]any {
	h := inv.hosts[host]
	if h == nil {
		return nil
	}
	groups := inv.HostGroups(host)
	all := inv.Groups["all"]
	out := map[string]any{}
	maps.Copy(out, all.Vars)
	for _, g := range groups {
		maps.Copy(out, inv.Groups[g].Vars)
	}
	maps.Copy(out, all.FileVars)
	for _, g := range groups {
		maps.Copy(out, inv.Groups[g].FileVars)
	}
	maps.Copy(out, h.Vars)
	maps.Copy(out, h.FileVars)
	return out
}

// sortGroups orders groups as Ansible's sort_groups does: by depth below
// all (parents before children), then ansible_group_priority, then name.
func (inv *Inventory) sortGroups(groups []string) {
	depth := map[string]int{}
	for _, g := range groups {
		depth[g] = inv.depth(g, map[string]bool{})
	}
	slices.SortFunc(groups, func(a, b string) int {
		return cmp.Or(cmp.Compare(depth[a], depth[b]), cmp.Compare(inv.priority(a), inv.priority(b)), cmp.Compare(a, b))
	})
}

// depth is the length of the longest chain of parents from g up to all.
func (inv *Inventory) depth(g string, seen map[string]bool) int {
	if g == "all" || seen[g] {
		return 0
	}
	seen[g] = true
	d := 0
	for _, p := range inv.Groups[g].parents {
		d = max(d, inv.depth(p, seen)+1)
	}
	delete(seen, g)
	return d
}

// priority is the group's ansible_group_priority, 1 when unset.
func (inv *Inventory) priority(g string) int {
	switch v := inv.Groups[g].Vars["ansible_group_priority"].(type) {
	case int:
		return v
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return 1
}
