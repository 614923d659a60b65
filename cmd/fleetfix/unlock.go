package main

import (
	"errors"
	"slices"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/spf13/cobra"
)

func newUnlockCmd() *cobra.Command {
	var f commonFlags
	var inv inventoryArg
	var force bool
	cmd := &cobra.Command{
		Use:   "unlock [INVENTORY | -i INVENTORY] HOST... [--force] [-o FORMAT]",
		Short: "Show who holds each host's lock and remove it, for a run that is gone",
		Long: `unlock shows, on each named host, who holds its run lock (run, controller,
pid, since when, what is left of its lease) and removes it. A lock whose lease
is live is refused: its run may still be changing the host; --force removes it
anyway. A rollout takes over an expired lock by itself, and one whose controller
on this machine is gone, so this is for the rest. The run that held the lock, if
its manifest still says running, is marked interrupted: the next rollout
resumes it. Hosts are unlocked in parallel, up to the inventory's max_parallel.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			path, hosts, err := inv.split(args, true)
			if err != nil {
				return err
			}
			if len(hosts) == 0 {
				return usageError{errors.New("name the hosts to unlock")}
			}
			loaded, targets, err := f.loadTargets(path, slices.Clone(hosts))
			if err != nil {
				return err
			}
			rep, summary := f.format.unlock(cmd.OutOrStdout())
			s, err := fleet.Unlock(cmd.Context(), fleet.UnlockOptions{Inventory: loaded, Targets: targets,
				Dial: fleet.RemoteDialer(loaded, f.connectOptions()), Reporter: rep, StateDir: f.stateDir, Force: force})
			if err != nil {
				return err
			}
			summary("unlock", s)
			return hostsExit(s)
		},
	}
	fl := cmd.Flags()
	inv.register(cmd, true)
	fl.BoolVar(&force, "force", false, "remove a lock even if its lease is live")
	fl.StringVarP(&f.output, "output", "o", formats()[0].name, formatsHelp())
	fl.StringVar(&f.stateDir, "state-dir", defaultStateDir(), "local copy of run manifests")
	fl.BoolVar(&f.tofu, "trust-on-first-use", false, "accept and record the key of a host not yet in known_hosts (never a changed key)")
	fl.StringVar(&f.passwordFile, "become-password-file", "", "read the sudo password from this file instead of prompting (for hosts with become_password: true)")
	return cmd
}
