package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/spf13/cobra"
)

// envInventory names the inventory of a command given none on its command
// line.
const envInventory = "FLEETFIX_INVENTORY"

// defaultInventory is the inventory of last resort, in the working directory.
const defaultInventory = "inventory.yaml"

// inventoryArg is how every command is given its inventory, the same way
// everywhere: a positional argument or -i, else $FLEETFIX_INVENTORY, else
// ./inventory.yaml.
type inventoryArg struct {
	flag string // -i, "" when not given
}

// register adds -i to cmd, and the shell completion of its arguments and of
// its --limit (registered before) from the inventory. hosts says whether
// cmd's arguments are host names after the inventory (see split).
func (a *inventoryArg) register(cmd *cobra.Command, hosts bool) {
	cmd.Flags().StringVarP(&a.flag, "inventory", "i", "", "inventory file (default $"+envInventory+", else ./"+defaultInventory+")")
	_ = cmd.MarkFlagFilename("inventory", "yaml", "yml") // the flag exists: cannot fail
	cmd.ValidArgsFunction = a.completeInventory
	if hosts {
		cmd.ValidArgsFunction = a.completeHosts
	}
	if cmd.Flags().Lookup("limit") != nil {
		_ = cmd.RegisterFlagCompletionFunc("limit", a.completeLimit(hosts)) // registered once per command
	}
}

// split parses a command's arguments into its inventory and the rest. With
// hosts false the command takes the inventory alone: at most one argument.
// With hosts true the rest are host names, and the first argument is the
// inventory when it ends in .yaml or .yml or, without -i, names an existing
// file: "rollback HOST" and "rollback INVENTORY HOST" both work. An
// inventory given twice, or none at all with no ./inventory.yaml, is a
// usage error.
func (a *inventoryArg) split(args []string, hosts bool) (path string, rest []string, err error) {
	if !hosts && len(args) > 1 {
		return "", nil, usageError{fmt.Errorf("want one inventory, got %d arguments", len(args))}
	}
	if len(args) > 0 && (!hosts || a.isInventory(args[0])) {
		if a.flag != "" {
			return "", nil, usageError{fmt.Errorf("inventory given twice: -i %s and %s", a.flag, args[0])}
		}
		return args[0], args[1:], nil
	}
	path = a.flag
	if path == "" {
		path = os.Getenv(envInventory)
	}
	if path == "" {
		if _, err := os.Stat(defaultInventory); errors.Is(err, os.ErrNotExist) {
			return "", nil, usageError{fmt.Errorf("no inventory: give INVENTORY or -i FILE, or set $%s (there is no ./%s)", envInventory, defaultInventory)}
		}
		path = defaultInventory
	}
	return path, args, nil
}

// isInventory says whether a first argument of a host command names the
// inventory rather than a host.
func (a *inventoryArg) isInventory(arg string) bool {
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") {
		return true
	}
	if a.flag != "" {
		return false
	}
	fi, err := os.Stat(arg)
	return err == nil && fi.Mode().IsRegular()
}

// names are the host and group names of the command's inventory, for shell
// completion, leaving out those already given; nil when it does not load.
func (a *inventoryArg) names(args []string, hosts bool) []string {
	path, given, err := a.split(args, hosts)
	if err != nil {
		return nil
	}
	inv, err := inventory.Load(path)
	if err != nil {
		return nil
	}
	var names []string
	for _, h := range inv.Hosts {
		names = append(names, h.Name)
	}
	groups := make([]string, 0, len(inv.Groups))
	for g := range inv.Groups {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	return slices.DeleteFunc(append(names, groups...), func(n string) bool { return slices.Contains(given, n) })
}

// completeInventory completes the positional argument of a command that
// takes the inventory alone: a YAML file.
func (a *inventoryArg) completeInventory(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 || a.flag != "" {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return []cobra.Completion{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
}

// completeHosts completes the arguments of a host command: the host and
// group names of its inventory, or, with none to load yet, a YAML file.
func (a *inventoryArg) completeHosts(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if names := a.names(args, true); len(names) > 0 {
		return names, cobra.ShellCompDirectiveNoFileComp
	}
	if len(args) == 0 && a.flag == "" {
		return []cobra.Completion{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// completeLimit completes --limit with the inventory's host and group names.
func (a *inventoryArg) completeLimit(hosts bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return a.names(args, hosts), cobra.ShellCompDirectiveNoFileComp
	}
}
