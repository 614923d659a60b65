package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"text/template"

	"github.com/fleetfix/fleetfix/fleet"
)

// benchInventory is the lab's inventory with the benchmark's rollout policy:
// canary 1, then every other host (batch 100%), max_parallel of them at once, and the drop-in's TimeoutStopSec both tools install.
var benchInventory = template.Must(template.New("inv").Parse(`# fleetbench inventory (generated from {{.Lab}}).
defaults:
  user: root
  identity_files: [{{.Key}}]
  agent: false
  known_hosts: [{{.KnownHosts}}]
  connect_timeout: 10s
hosts:
{{- range .Hosts}}
  - name: {{.Name}}
    address: {{.Address}}
{{- end}}
services:
  - unit: smart-proxy.service
    artifacts:
      - src: {{.Artifact}}
        dest: /usr/local/bin/smart-proxy
        mode: "0755"
        owner: root:root
    dropin:
      name: override.conf
      settings:
        TimeoutStopSec: {{.Stop}}
        KillMode: mixed
        KillSignal: SIGTERM
        FinalKillSignal: SIGKILL
    health:
      tcp: 127.0.0.1:8080
      timeout: 15s
rollout:
  canary: 1
  batch: 100%
  max_parallel: {{.N}}
  failure_budget: 0
  reboot: true
`))

func labFiles(lab *fleet.Inventory) (key, knownHosts, artifact string, err error) {
	if len(lab.Defaults.IdentityFiles) != 1 || len(lab.Defaults.KnownHosts) != 1 || len(lab.Services) != 1 || len(lab.Services[0].Artifacts) != 1 {
		return "", "", "", fmt.Errorf("%s: not a lab inventory as fleetfix lab up writes it", lab.Path)
	}
	return lab.Defaults.IdentityFiles[0], lab.Defaults.KnownHosts[0], lab.Services[0].Artifacts[0].Src, nil
}

func writeBenchInventory(path string, lab *fleet.Inventory, n, mp int, stop string) error {
	key, kh, art, err := labFiles(lab)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	err = benchInventory.Execute(&b, map[string]any{"Lab": lab.Path, "Key": key, "KnownHosts": kh,
		"Hosts": lab.Hosts[:n], "Artifact": art, "Stop": stop, "N": mp})
	if err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// writeAnsible writes the Ansible inventory (the same hosts, key and
// known_hosts as fleetfix's) and ansible.cfg: forks = fleet size,
// pipelining, strict host key checking against the lab's known_hosts.
func writeAnsible(dir string, lab *fleet.Inventory, n, forks int) error {
	key, kh, _, err := labFiles(lab)
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
