package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/spf13/cobra"
)

func newScanCmd() *cobra.Command {
	var f commonFlags
	var inv inventoryArg
	var top, parallel int
	var reportFormat string
	var failOnSigkill bool
	var suggestTo string
	var force bool
	cmd := &cobra.Command{
		Use:   "scan [INVENTORY | -i INVENTORY] [--top N] [--fail-on-sigkill] [--suggest[=inventory-fix.yaml]]",
		Short: "Read each host's last shutdown from its journal: which units were SIGKILLed or slowest to stop (read-only)",
		Long: `scan is the diagnosis before any change: on every host at once, it reads the
previous boot's journal and reports the units that were SIGKILLed after their stop
timeout, then the slowest to stop, with their effective TimeoutStopSec and
KillMode. It changes nothing. It exits 1 when a host could not be read and,
with --fail-on-sigkill, when a unit was SIGKILLed (for monitoring and CI).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			writeScan, err := f.scanWriter(reportFormat, cmd.Flags().Changed("output"))
			if err != nil {
				return err
			}
			if top < 0 {
				return usageError{fmt.Errorf("--top %d: want 0 (every unit) or more", top)}
			}
			path, _, err := inv.split(args, false)
			if err != nil {
				return err
			}
			loaded, targets, err := f.loadTargets(path, f.limit)
			if err != nil {
				return err
			}
			if top == 0 {
				top = math.MaxInt // fleet.Scan reads 0 as its default
			}
			start := time.Now()
			rep := f.format.scanEvents(cmd.ErrOrStderr(), f.verbose)
			results := fleet.Scan(cmd.Context(), fleet.ScanOptions{Inventory: loaded, Targets: targets,
				Dial: fleet.RemoteDialer(loaded, f.connectOptions()), Reporter: rep, Top: top, Parallel: parallel, Listen: suggestTo != ""})
			writeScan(cmd.OutOrStdout(), results, time.Since(start))
			if suggestTo != "" {
				if err := writeSuggestion(cmd, loaded, path, results, suggestTo, force); err != nil {
					return err
				}
			}
			return scanExit(cmd.ErrOrStderr(), results, failOnSigkill)
		},
	}
	f.register(cmd)
	inv.register(cmd, false)
	cmd.Flags().IntVar(&top, "top", 5, "slowest units reported per host, besides every SIGKILLed one (0: every unit)")
	cmd.Flags().BoolVar(&failOnSigkill, "fail-on-sigkill", false, "exit 1 when a unit was SIGKILLed at a host's last shutdown")
	cmd.Flags().IntVar(&parallel, "parallel", 64, "hosts scanned at once")
	cmd.Flags().StringVar(&reportFormat, "format", "", "write the scan as a report, md or html, instead of --output's (not with -o)")
	suggestFlags(cmd, &suggestTo, &force)
	return cmd
}

func newRebootCmd(in interrupts) *cobra.Command {
	var f commonFlags
	var inv inventoryArg
	var all bool
	cmd := &cobra.Command{
		Use:   "reboot [INVENTORY | -i INVENTORY] [HOST...] [--all]",
		Short: "Cold-reboot hosts in rolling batches and report each unit's stop time, before against after",
		Long: `reboot runs the rollout's reboot step alone: it records the boot id, issues the
reboot, waits for the host to go down and come back with a new boot id (polling
sshd's port at sub-second intervals, logging in only to read the boot id), checks
the host key again, waits for the inventory's units to be active and healthy, and
reads the journal: each unit's stop time at this shutdown against the one before.
Canary first and the failure budget apply as in a rollout.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHosts(cmd, &f, hostCmd{name: "reboot", claim: true,
				targets: func() (*inventory.Inventory, []inventory.Target, error) {
					path, hosts, err := inv.split(args, true)
					if err != nil {
						return nil, nil, err
					}
					if all == (len(hosts) > 0 || len(f.limit) > 0) {
						return nil, nil, usageError{fmt.Errorf("name the hosts to reboot (or --limit), or --all")}
					}
					return f.loadTargets(path, append(f.limit, hosts...))
				},
				reboots: func(*inventory.Inventory) bool { return true },
				run: func(ctx context.Context, env hostEnv) (*fleet.Summary, error) {
					return fleet.Reboot(ctx, fleet.Options{Inventory: env.inv, Targets: env.targets,
						Dial: env.dial, SSHConfig: env.co.SSHConfig, Reporter: env.rep, RunID: env.runID, Halt: in.halt})
				},
			})
		},
	}
	f.register(cmd)
	inv.register(cmd, true)
	cmd.Flags().BoolVar(&all, "all", false, "reboot every host of the inventory")
	return cmd
}

// scanExit is a scan's exit: 1 when a host could not be read or, with
// failOnSigkill, when a unit was SIGKILLed on one, said on w.
func scanExit(w io.Writer, results []fleet.ScanResult, failOnSigkill bool) error {
	failed, killed := 0, 0
	for _, r := range results {
		if r.Err() != nil {
			failed++
		}
		if slices.ContainsFunc(r.Units, func(u fleet.ScanUnit) bool { return u.Killed }) {
			killed++
		}
	}
	if failOnSigkill && killed > 0 {
		fmt.Fprintf(w, "fleetfix: a unit was SIGKILLed on %d host(s) (--fail-on-sigkill)\n", killed)
	}
	if failed > 0 || failOnSigkill && killed > 0 {
		return exitCode(exitFailedHosts)
	}
	return nil
}
