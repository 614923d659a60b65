package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/fleetfix/fleetfix/ansible"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

func newInventoryImportCmd() *cobra.Command {
	var out string
	var force, fromAnsible bool
	cmd := &cobra.Command{
		Use:   "import [--ansible] FILE|DIR [-o inventory.yaml]",
		Short: "Write a fleetfix inventory from an Ansible inventory's hosts, groups and connection variables",
		Long: `import reads a static Ansible inventory (INI or YAML, a file or a directory,
with the group_vars/ and host_vars/ beside it), resolves each host's variables as
Ansible does, and writes a fleetfix inventory: the hosts in the Ansible order,
their groups (parents included), their connection keys (ansible_host, _port,
_user, _ssh_private_key_file, _become, and the jump hosts of
ansible_ssh_common_args as bastions), and a commented services: stub to fill in.
Everything it does not carry over is a warning on stderr; a become_user other
than root is an error. Without -o, the inventory goes to stdout.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_ = fromAnsible // Ansible is the one format import reads today
			f, err := ansibleFleet(args[0], cmd.ErrOrStderr())
			if err != nil {
				return usageError{err}
			}
			return writeOutput(cmd.OutOrStdout(), out, force, ansible.Render(f, args[0]))
		},
	}
	cmd.Flags().BoolVar(&fromAnsible, "ansible", true, "the source is an Ansible inventory (the only format read today)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the inventory to this file instead of stdout")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite the -o file if it exists")
	return cmd
}

// ansibleFleet loads an Ansible inventory and maps it to fleetfix hosts,
// printing what it does not carry over to warn.
func ansibleFleet(path string, warn io.Writer) (*ansible.Fleet, error) {
	inv, err := ansible.Load(path)
	if err != nil {
		return nil, err
	}
	f, err := inv.Fleet()
	for _, w := range f.Warnings {
		fmt.Fprintln(warn, "warning:", w)
	}
	if err != nil {
		return nil, fmt.Errorf("ansible inventory %s:\n%w", path, err)
	}
	if len(f.Hosts) == 0 {
		return nil, fmt.Errorf("ansible inventory %s: no hosts", path)
	}
	return f, nil
}

// writeOutput writes data to path, or to stdout when path is empty. An
// existing file is kept unless force: it may be the operator's own edit.
func writeOutput(stdout io.Writer, path string, force bool, data []byte) error {
	if path == "" || path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644) //nolint:gosec // G304: the file the operator named
	if errors.Is(err, os.ErrExist) {
		return usageError{fmt.Errorf("%s exists; give --force to overwrite it", path)}
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	return f.Close()
}

// loadInventory loads the inventory at path. With hostsFrom, the hosts
// come from elsewhere and the rest (services, rollout) stays: from
// "ansible:FILE", the Ansible inventory's hosts and groups (and bastions
// when it needs some) replace the inventory's; from a fleetfix inventory
// file, its defaults, bastions, hosts and groups do.
func loadInventory(path, hostsFrom string, warn io.Writer) (*inventory.Inventory, error) {
	if hostsFrom == "" {
		return inventory.Load(path)
	}
	data, err := os.ReadFile(path) //nolint:gosec // G304: the file the operator named
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	var hosts []byte
	replace := []string{"hosts", "groups"}
	if src, ok := strings.CutPrefix(hostsFrom, "ansible:"); ok {
		f, err := ansibleFleet(src, warn)
		if err != nil {
			return nil, fmt.Errorf("--hosts-from: %w", err)
		}
		hosts = ansible.RenderHosts(f)
		if len(f.Bastions) > 0 {
			replace = append(replace, "bastions")
		}
	} else {
		other, err := os.ReadFile(hostsFrom) //nolint:gosec // G304: the file the operator named
		if err != nil {
			return nil, fmt.Errorf("--hosts-from: %w", err)
		}
		replace = append(replace, "defaults", "bastions")
		if hosts, err = sections(other, replace, true); err != nil {
			return nil, fmt.Errorf("--hosts-from %s: %w", hostsFrom, err)
		}
	}
	kept, err := sections(data, replace, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	kept = append(kept, "# from --hosts-from "+hostsFrom+"\n"...)
	return inventory.Parse(path, append(kept, hosts...))
}

// sections returns an inventory's text with only its top-level sections
// named in keys (keep), or with those blanked (!keep). Blanking keeps every
// other line where it was, so that a problem in the services or rollout
// still names its line in the operator's file.
func sections(data []byte, keys []string, keep bool) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	lines := strings.SplitAfter(string(data), "\n")
	if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		lines[n-1] += "\n"
	}
	in := make([]bool, len(lines))
	if len(doc.Content) == 1 {
		top := doc.Content[0]
		if top.Kind != yaml.MappingNode || top.Style&yaml.FlowStyle != 0 {
			return nil, errors.New("--hosts-from needs the inventory as a block mapping of sections")
		}
		for i := 0; i+1 < len(top.Content); i += 2 {
			if !slices.Contains(keys, top.Content[i].Value) {
				continue
			}
			end := len(lines)
			if i+2 < len(top.Content) {
				end = top.Content[i+2].Line - 1
			}
			for l := top.Content[i].Line - 1; l < end; l++ {
				in[l] = true
			}
		}
	}
	var b bytes.Buffer
	for i, l := range lines {
		switch {
		case in[i] == keep:
			b.WriteString(l)
		case !keep:
			b.WriteString("\n")
		}
	}
	return b.Bytes(), nil
}
