package ansible

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxFile bounds each file read, as fleetfix's own inventory does: a
// static inventory of 10,000 hosts is a few MiB.
const maxFile = 32 << 20

// Load reads the static Ansible inventory at path: one INI or YAML file, or
// a directory of them (read in name order, skipping what Ansible skips),
// with the group_vars/ and host_vars/ beside the file or inside the
// directory. What it cannot read (executable inventory scripts, inventory
// plugin configurations) is listed in Warnings, never silently dropped.
func Load(path string) (*Inventory, error) {
	inv := newInventory()
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("ansible inventory: %w", err)
	}
	base := filepath.Dir(path)
	if st.IsDir() {
		base = path
		err = inv.loadDir(path)
	} else {
		err = inv.loadFile(path, st)
	}
	if err != nil {
		return nil, err
	}
	inv.reconcile()
	if err := inv.loadVarsDirs(base); err != nil {
		return nil, err
	}
	return inv, nil
}

// ignoredInDir are the names Ansible skips in an inventory directory
// (hidden files, the vars directories, and INVENTORY_IGNORE_EXTS).
func ignoredInDir(name string) bool {
	if strings.HasPrefix(name, ".") || name == "host_vars" || name == "group_vars" || name == "vars_plugins" {
		return true
	}
	for _, ext := range []string{".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".ini", ".cfg", ".retry"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func (inv *Inventory) loadDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("ansible inventory: %w", err)
	}
	for _, e := range entries { // ReadDir sorts by name, as Ansible does
		if ignoredInDir(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("ansible inventory: %w", err)
		}
		if st.IsDir() {
			err = inv.loadDir(p)
		} else {
			err = inv.loadFile(p, st)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (inv *Inventory) loadFile(path string, st fs.FileInfo) error {
	if st.Mode()&0o111 != 0 {
		inv.Warnings = append(inv.Warnings, fmt.Sprintf("%s: executable, so Ansible runs it as a dynamic inventory script: not imported (save its output with ansible-inventory -i %s --list -y > static.yaml and import that)", path, path))
		return nil
	}
	data, err := readSmall(path)
	if err != nil {
		return err
	}
	name := filepath.Base(path)
	switch {
	case strings.HasSuffix(name, ".toml"):
		inv.Warnings = append(inv.Warnings, fmt.Sprintf("%s: TOML inventories are not imported", path))
		return nil
	case yamlExt(name):
		root := yamlRoot(data)
		if root == nil {
			if isEmptyYAML(data) {
				return nil
			}
			return fmt.Errorf("%s: not a YAML mapping of groups", path)
		}
		return parseYAML(inv, path, root)
	case filepath.Ext(name) == "":
		// Ansible tries the yaml plugin first on a file without extension.
		if root := yamlRoot(data); root != nil {
			return parseYAML(inv, path, root)
		}
	}
	return parseINI(inv, path, data)
}

func isEmptyYAML(data []byte) bool {
	var v any
	return yaml.Unmarshal(data, &v) == nil && v == nil
}

func readSmall(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("ansible inventory: %w", err)
	}
	if st.Size() > maxFile {
		return nil, fmt.Errorf("ansible inventory: %s is over %d MiB", path, maxFile>>20)
	}
	data, err := os.ReadFile(path) //nolint:gosec // G304: the file the operator named
	if err != nil {
		return nil, fmt.Errorf("ansible inventory: %w", err)
	}
	return data, nil
}

// loadVarsDirs reads group_vars/ and host_vars/ under base, as Ansible's
// host_group_vars plugin does: for each name, the first of NAME, NAME.yml,
// NAME.yaml, NAME.json that exists; a directory's files are read in name
// order, later keys winning.
func (inv *Inventory) loadVarsDirs(base string) error {
	for _, name := range inv.order {
		if err := loadVarsFor(filepath.Join(base, "group_vars"), name, inv.Groups[name].FileVars); err != nil {
			return err
		}
	}
	for _, h := range inv.Hosts {
		if err := loadVarsFor(filepath.Join(base, "host_vars"), h.Name, h.FileVars); err != nil {
			return err
		}
	}
	inv.warnStrayVars(base)
	return nil
}

var varsExts = []string{"", ".yml", ".yaml", ".json"}

func loadVarsFor(dir, name string, into map[string]any) error {
	for _, ext := range varsExts {
		p := filepath.Join(dir, name+ext)
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		files := []string{p}
		if st.IsDir() {
			files = varsDirFiles(p)
		}
		for _, f := range files {
			if err := loadVarsFile(f, into); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

// varsDirFiles lists a vars directory's files, recursively, in name order,
// without hidden files and backups, with a YAML extension or none.
func varsDirFiles(dir string) []string {
	var out []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		p := filepath.Join(dir, n)
		if e.IsDir() {
			out = append(out, varsDirFiles(p)...)
		} else if slices.Contains(varsExts, filepath.Ext(n)) {
			out = append(out, p)
		}
	}
	return out
}

func loadVarsFile(path string, into map[string]any) error {
	data, err := readSmall(path)
	if err != nil {
		return err
	}
	var vars map[string]any
	if err := yaml.Unmarshal(data, &vars); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for k, v := range vars {
		into[k] = v
	}
	return nil
}

// warnStrayVars warns of group_vars/ and host_vars/ entries that name no
// group or host: Ansible ignores them, and so a typo there goes unseen.
func (inv *Inventory) warnStrayVars(base string) {
	for _, kind := range []string{"group_vars", "host_vars"} {
		entries, err := os.ReadDir(filepath.Join(base, kind))
		if err != nil {
			continue
		}
		for _, e := range entries {
			n := e.Name()
			if strings.HasPrefix(n, ".") {
				continue
			}
			for _, ext := range varsExts[1:] {
				n = strings.TrimSuffix(n, ext)
			}
			_, g := inv.Groups[n]
			_, h := inv.hosts[n]
			if kind == "group_vars" && !g || kind == "host_vars" && !h {
				inv.Warnings = append(inv.Warnings, fmt.Sprintf("%s: names no %s of the inventory: ignored, as Ansible does", filepath.Join(base, kind, e.Name()), strings.TrimSuffix(kind, "_vars")))
			}
		}
	}
}
