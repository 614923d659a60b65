package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/lab"
)

// labFiles are the lab inventory's key, known_hosts and fixed builds:
// smart-proxy's, and rule-proxy's ("" when the lab has smart-proxy alone).
func labFiles(lab *inventory.Inventory) (key, knownHosts, artifact, rule string, err error) {
	if len(lab.Defaults.IdentityFiles) != 1 || len(lab.Defaults.KnownHosts) != 1 {
		return "", "", "", "", fmt.Errorf("%s: not a lab inventory as fleetfix lab up writes it", lab.Path)
	}
	for _, s := range lab.Services {
		if len(s.Artifacts) != 1 {
			continue
		}
		switch s.Unit {
		case "smart-proxy.service":
			artifact = s.Artifacts[0].Src
		case "rule-proxy.service":
			rule = s.Artifacts[0].Src
		}
	}
	if artifact == "" {
		return "", "", "", "", fmt.Errorf("%s: no smart-proxy.service with one artifact", lab.Path)
	}
	return lab.Defaults.IdentityFiles[0], lab.Defaults.KnownHosts[0], artifact, rule, nil
}

// writeBenchInventory is the lab's inventory for the first n hosts, both
// demo services when the lab has them, with the benchmark's policy: canary
// 1, then batches of batch hosts (every other host when batch is ""), mp at
// once, the drop-in TimeoutStopSec both tools install and every service's
// old_stop_timeout (see policy).
func writeBenchInventory(path string, inv *inventory.Inventory, n, mp int, stop string, p policy) error {
	key, kh, art, rule, err := labFiles(inv)
	if err != nil {
		return err
	}
	hosts := make([]lab.Host, n)
	for i, h := range inv.Hosts[:n] {
		hosts[i] = lab.Host{Name: h.Name, Address: h.Address}
	}
	b, err := lab.RenderInventory(lab.InventoryParams{Source: "fleetbench (generated from " + inv.Path + ")",
		Key: key, KnownHosts: kh, Hosts: hosts, Artifact: art, RuleArtifact: rule, StopTimeout: stop, MaxParallel: mp})
	if err == nil {
		b, err = withPolicy(b, p)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// policy is the rollout policy fleetbench sets in the lab's inventory.
type policy struct {
	batch   string // rollout.batch; "": the template's (every other host at once)
	oldStop string // every service's restart.old_stop_timeout; "": none, the restart waits out the drop-in
	confirm string // rollout.confirm_timeout (0 disables the guard); "": fleetfix's default
}

// withPolicy sets p in an inventory's text, whatever services the lab's
// inventory lists: the seed-shaped scenario follows the lab's units, one
// or two.
func withPolicy(text []byte, p policy) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil || len(doc.Content) != 1 {
		return nil, fmt.Errorf("lab inventory: %v", err)
	}
	root := doc.Content[0]
	if p.batch != "" {
		setKey(mapping(root, "rollout"), "batch", p.batch)
	}
	if p.confirm != "" {
		setKey(mapping(root, "rollout"), "confirm_timeout", p.confirm)
	}
	if svcs := lookup(root, "services"); svcs != nil {
		for _, svc := range svcs.Content {
			if p.oldStop != "" {
				setKey(mapping(svc, "restart"), "old_stop_timeout", p.oldStop)
			} else if r := lookup(svc, "restart"); r != nil {
				deleteKey(r, "old_stop_timeout")
				if len(r.Content) == 0 {
					deleteKey(svc, "restart")
				}
			}
		}
	}
	return yaml.Marshal(&doc)
}

// lookup is the value of key in mapping m, nil when absent.
func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// mapping is the mapping at key in m, added when absent.
func mapping(m *yaml.Node, key string) *yaml.Node {
	if v := lookup(m, key); v != nil {
		return v
	}
	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	return v
}

// deleteKey removes key and its value from mapping m.
func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// setKey sets key to the scalar value in mapping m.
func setKey(m *yaml.Node, key, value string) {
	if v := lookup(m, key); v != nil {
		v.Kind, v.Tag, v.Value, v.Content = yaml.ScalarNode, "", value, nil
		return
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
}

// writeAnsible writes the Ansible inventory (the same hosts, key and
// known_hosts as fleetfix's) and ansible.cfg: forks = fleet size,
// pipelining, strict host key checking against the lab's known_hosts.
func writeAnsible(dir string, lab *inventory.Inventory, n, forks int) error {
	key, kh, _, _, err := labFiles(lab)
	if err != nil {
		return err
	}
	var inv bytes.Buffer
	inv.WriteString("[lab]\n")
	for _, h := range lab.Hosts[:n] {
		fmt.Fprintf(&inv, "%s ansible_host=%s\n", h.Name, h.Address)
	}
	fmt.Fprintf(&inv, "\n[lab:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\nansible_python_interpreter=/usr/bin/python3\n", key)
	if err := os.WriteFile(filepath.Join(dir, "hosts.ini"), inv.Bytes(), 0o644); err != nil {
		return err
	}
	cfg := fmt.Sprintf(`[defaults]
inventory = %s
forks = %d
host_key_checking = True
gathering = explicit
retry_files_enabled = False
interpreter_python = /usr/bin/python3
timeout = 10

[ssh_connection]
pipelining = True
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=%s -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes
`, filepath.Join(dir, "hosts.ini"), forks, kh)
	return os.WriteFile(filepath.Join(dir, "ansible.cfg"), []byte(cfg), 0o644)
}
