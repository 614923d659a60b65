package ansible

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// parseYAML reads an inventory in Ansible's YAML format: top-level groups,
// each with hosts (a mapping of host pattern to its variables), vars and
// children (a mapping of subgroups, each a group of its own).
func parseYAML(inv *Inventory, path string, root *yaml.Node) error {
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: a YAML inventory is a mapping of group names", path, root.Line)
	}
	if plugin := mapValue(root, "plugin"); plugin != nil {
		inv.Warnings = append(inv.Warnings, fmt.Sprintf("%s: an inventory plugin configuration (plugin: %s), not a static inventory: not imported", path, plugin.Value))
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if err := inv.yamlGroup(path, root.Content[i].Value, root.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func (inv *Inventory) yamlGroup(path, name string, n *yaml.Node) error {
	at := func(n *yaml.Node, format string, args ...any) error {
		return fmt.Errorf("%s:%d: group %s: %s", path, n.Line, name, fmt.Sprintf(format, args...))
	}
	inv.group(name)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return at(n, "expected a mapping of hosts, vars and children")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if isNull(val) {
			continue
		}
		if val.Kind == yaml.ScalarNode && (key.Value == "hosts" || key.Value == "children") {
			// Ansible reads "hosts: web1" as the one host web1.
			val = &yaml.Node{Kind: yaml.MappingNode, Line: val.Line, Content: []*yaml.Node{val, {Kind: yaml.ScalarNode, Tag: "!!null"}}}
		}
		switch key.Value {
		case "vars":
			vars, err := decodeVars(val)
			if err != nil {
				return at(val, "vars: %v", err)
			}
			for k, v := range vars {
				inv.Groups[name].Vars[k] = v
			}
		case "hosts":
			if val.Kind != yaml.MappingNode {
				return at(val, "hosts: expected a mapping of host names (end each with a colon)")
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				if err := inv.yamlHost(name, val.Content[j].Value, val.Content[j+1]); err != nil {
					return at(val.Content[j], "%v", err)
				}
			}
		case "children":
			if val.Kind != yaml.MappingNode {
				return at(val, "children: expected a mapping of group names")
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				child := val.Content[j].Value
				if err := inv.yamlGroup(path, child, val.Content[j+1]); err != nil {
					return err
				}
				if !inv.child(name, child) {
					return at(val.Content[j], "group %s cannot be a child of itself or of its own child", child)
				}
			}
		default:
			inv.Warnings = append(inv.Warnings, fmt.Sprintf("%s:%d: group %s: unexpected key %q skipped, as Ansible does", path, key.Line, name, key.Value))
		}
	}
	return nil
}

func (inv *Inventory) yamlHost(group, pattern string, n *yaml.Node) error {
	hosts, port, err := expandPattern(pattern)
	if err != nil {
		return err
	}
	vars := map[string]any{}
	if !isNull(n) {
		if vars, err = decodeVars(n); err != nil {
			return fmt.Errorf("host %s: %w", pattern, err)
		}
	}
	if port != 0 {
		vars["ansible_port"] = port
	}
	for _, h := range hosts {
		inv.host(h, group, vars)
	}
	return nil
}

func decodeVars(n *yaml.Node) (map[string]any, error) {
	var vars map[string]any
	if err := n.Decode(&vars); err != nil {
		return nil, fmt.Errorf("expected a mapping of variables: %w", err)
	}
	if vars == nil {
		vars = map[string]any{}
	}
	return vars, nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// mapValue returns the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// yamlRoot parses data as a single YAML document, returning its top node,
// or nil when data is not YAML or not a mapping (then it may be INI).
func yamlRoot(data []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 {
		return nil
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	return doc.Content[0]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// yamlExt reports whether Ansible's yaml plugin reads a file so named by
// default (its yaml_extensions); a file with no extension is tried too.
func yamlExt(name string) bool {
	for _, e := range []string{".yml", ".yaml", ".json"} {
		if strings.HasSuffix(name, e) {
			return true
		}
	}
	return false
}
