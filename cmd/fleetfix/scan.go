package main

import (
	"fmt"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/spf13/cobra"
)

func newScanCmd() *cobra.Command {
	var f commonFlags
	var top, parallel int
	var suggestTo string
	var force bool
	cmd := &cobra.Command{
		Use:   "scan INVENTORY [--suggest[=inventory-fix.yaml]]",
		Short: "Read each host's last shutdown from its journal: which units were SIGKILLed or slowest to stop (read-only)",
		Long: `scan is the diagnosis before any change: on every host at once, it reads the
previous boot's journal and reports the units that were SIGKILLed after their stop
timeout, then the slowest to stop, with their effective TimeoutStopSec and
KillMode. It changes nothing.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			inv, targets, err := f.loadTargets(args[0], f.limit)
			if err != nil {
				return err
			}
			start := time.Now()
			rep := f.format.scanEvents(cmd.ErrOrStderr(), f.verbose)
			results := fleet.Scan(cmd.Context(), fleet.ScanOptions{Inventory: inv, Targets: targets,
				Dial: fleet.RemoteDialer(inv, f.connectOptions()), Reporter: rep, Top: top, Parallel: parallel})
			failed := 0
			for _, r := range results {
				if r.Err() != nil {
					failed++
				}
			}
			f.format.scan(cmd.OutOrStdout(), results, time.Since(start))
			if suggestTo != "" {
				if err := writeSuggestion(cmd, inv, args[0], results, suggestTo, force); err != nil {
					return err
				}
			}
			if failed > 0 {
				return exitCode(exitFailedHosts)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&top, "top", 5, "slowest units reported per host, besides every SIGKILLed one")
	cmd.Flags().IntVar(&parallel, "parallel", 64, "hosts scanned at once")
	suggestFlags(cmd, &suggestTo, &force)
	return cmd
}

func newRebootCmd(in interrupts) *cobra.Command {
	var f commonFlags
	var invPath string
	var all bool
	cmd := &cobra.Command{
		Use:   "reboot [HOST...] (-i INVENTORY) [--all]",
		Short: "Cold-reboot hosts in rolling batches and report each unit's stop time, before against after",
		Long: `reboot runs the rollout's reboot step alone: it records the boot id, issues the
reboot, waits for the host to go down and come back with a new boot id (polling
sshd's port at sub-second intervals, logging in only to read the boot id), checks
the host key again, waits for the inventory's units to be active and healthy, and
reads the journal: each unit's stop time at this shutdown against the one before.
Canary first and the failure budget apply as in a rollout.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			if all == (len(args) > 0 || len(f.limit) > 0) {
				return usageError{fmt.Errorf("name the hosts to reboot (or --limit), or --all")}
			}
			inv, targets, err := f.loadTargets(invPath, append(f.limit, args...))
			if err != nil {
				return err
			}
			runID := fleet.NewRunID(time.Now())
			rep, summary := f.reporter(cmd.OutOrStdout(), runID)
			s, err := fleet.Reboot(cmd.Context(), fleet.Options{Inventory: inv, Targets: targets,
				Dial: fleet.RemoteDialer(inv, f.connectOptions()), Reporter: rep, RunID: runID, Halt: in.halt})
			if err != nil {
				return err
			}
			summary("reboot", s)
			if !s.OK() {
				return exitCode(exitFailedHosts)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&invPath, "inventory", "i", envOr("FLEETFIX_INVENTORY", "inventory.yaml"), "inventory file (env FLEETFIX_INVENTORY)")
	cmd.Flags().BoolVar(&all, "all", false, "reboot every host of the inventory")
	return cmd
}
