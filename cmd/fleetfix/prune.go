package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/spf13/cobra"
)

// hostArgs are the inventory and hosts of a command that works on hosts
// named on its command line (rollback, prune): HOST... or --all.
type hostArgs struct {
	inv inventoryArg
	all bool
}

func (a *hostArgs) register(cmd *cobra.Command, verb string) {
	a.inv.register(cmd, true)
	cmd.Flags().BoolVar(&a.all, "all", false, verb+" every host of the inventory (with --limit: those)")
}

// targets loads the inventory and picks the hosts named in args (and
// --limit), or all with --all; it is a usage error to do both or neither.
func (a *hostArgs) targets(f *commonFlags, args []string, verb string) (*inventory.Inventory, []inventory.Target, error) {
	path, hosts, err := a.inv.split(args, true)
	if err != nil {
		return nil, nil, err
	}
	if a.all == (len(hosts) > 0) {
		return nil, nil, usageError{fmt.Errorf("name the hosts to %s, or --all (not both)", verb)}
	}
	return f.loadTargets(path, append(slices.Clone(f.limit), hosts...))
}

func newPruneCmd(in interrupts) *cobra.Command {
	var f commonFlags
	var hosts hostArgs
	var keep int
	var dry bool
	cmd := &cobra.Command{
		Use:   "prune [INVENTORY | -i INVENTORY] [HOST...] [--all] [--keep N] [--dry-run]",
		Short: "Remove the backups and manifests of old finished runs from hosts",
		Long: `prune removes, on each named host (or --all), the backups (<path>.bak.<run id>)
and the manifest of every run older than the newest --keep that is complete or
rolled back. The newest --keep runs stay whatever their state, and so does any
run that is running, failed, halted or interrupted: it may still be resumed or
rolled back. A pruned run can no longer be rolled back. It takes each host's
lock, as a rollout does; --dry-run shows what it would remove.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHosts(cmd, &f, hostCmd{name: "prune",
				reportID: func(string) string { return "" }, // a prune is no run of its own
				targets: func() (*inventory.Inventory, []inventory.Target, error) {
					if keep < 0 {
						return nil, nil, usageError{fmt.Errorf("--keep %d: want 0 or more", keep)}
					}
					return hosts.targets(&f, args, "prune")
				},
				run: func(ctx context.Context, env hostEnv) (*fleet.Summary, error) {
					return fleet.Prune(ctx, fleet.PruneOptions{Inventory: env.inv, Targets: env.targets,
						Dial: env.dial, Reporter: env.rep, Keep: keep, DryRun: dry, Halt: in.halt})
				},
			})
		},
	}
	f.register(cmd)
	hosts.register(cmd, "prune")
	cmd.Flags().IntVar(&keep, "keep", fleet.DefaultKeep, "runs to keep on each host, newest first, whatever their state")
	cmd.Flags().BoolVarP(&dry, "dry-run", "n", false, "show what would be removed and remove nothing")
	return cmd
}
