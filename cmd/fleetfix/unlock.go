package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/spf13/cobra"
)

func newUnlockCmd() *cobra.Command {
	var f commonFlags
	var inv inventoryArg
	var force bool
	cmd := &cobra.Command{
		Use:   "unlock [INVENTORY | -i INVENTORY] HOST... [--force]",
		Short: "Show who holds each host's lock and remove it, for a run that is gone",
		Long: `unlock shows, on each named host, who holds its run lock (run, controller,
pid, since when, what is left of its lease) and removes it. A lock whose lease
is live is refused: its run may still be changing the host; --force removes it
anyway. A rollout takes over an expired lock by itself, and one whose controller
on this machine is gone, so this is for the rest. The run that held the lock, if
its manifest still says running, is marked interrupted: the next rollout
resumes it.`,
		RunE: func(cmd *cobra.Command, args []string) error {
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
			dial := fleet.RemoteDialer(loaded, f.connectOptions())
			failed := false
			for _, t := range targets {
				ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
				res := fleet.Unlock(ctx, dial, t, force, f.stateDir)
				cancel()
				failed = failed || res.Err != nil
				fmt.Fprintln(cmd.OutOrStdout(), unlockLine(res))
			}
			if failed {
				return exitCode(exitFailedHosts)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	inv.register(cmd, true)
	fl.BoolVar(&force, "force", false, "remove a lock even if its lease is live")
	fl.StringVar(&f.stateDir, "state-dir", defaultStateDir(), "local copy of run manifests")
	fl.BoolVar(&f.tofu, "trust-on-first-use", false, "accept and record the key of a host not yet in known_hosts (never a changed key)")
	fl.StringVar(&f.passwordFile, "become-password-file", "", "read the sudo password from this file instead of prompting (for hosts with become_password: true)")
	return cmd
}

// unlockLine is one host's outcome: who held its lock and what was done.
func unlockLine(r fleet.UnlockResult) string {
	s := r.Host + ": "
	if r.Holder == nil {
		if r.Err != nil {
			return s + r.Err.Error()
		}
		return s + "not locked"
	}
	s += "locked by " + r.Holder.String()
	switch {
	case errors.Is(r.Err, fleet.ErrLeaseLive):
		return s + ": refused: " + r.Err.Error()
	case r.Removed:
		s += ": removed"
		if r.Interrupted != "" {
			s += "; run " + r.Interrupted + " marked " + fleet.StateInterrupted
		}
	}
	if r.Err != nil {
		s += ": " + r.Err.Error()
	}
	return s
}
