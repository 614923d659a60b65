package main

import (
	"context"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/spf13/cobra"
)

// hostCmd is a command that works on hosts in a run of the fleet's
// (rollout, plan, rollback, reboot, prune), as runHosts runs it.
type hostCmd struct {
	name string // the command, as its summary and its stored record name it
	// targets checks the command's own arguments and loads the inventory
	// and the hosts; its errors are usage errors, before any host is dialed.
	targets func() (*inventory.Inventory, []inventory.Target, error)
	// claim: the run claims a run id in the state directory and stores its
	// summary under it; without, it is named by a fresh id and stores
	// nothing (a plan, a prune).
	claim bool
	// reportID is the run id the events and the summary name, from the
	// run's own; nil: the run's own (a rollback names the run it undoes).
	reportID func(runID string) string
	// tagUploads: the dialer names the run's uploads by its run id, for a
	// resume or a rollback to find those a cut-off upload left.
	tagUploads bool
	// reboots says whether the run cold-reboots the hosts of inv, as its
	// record says; nil: it does not.
	reboots func(inv *inventory.Inventory) bool
	// run runs the fleet's side of the command on hosts reached as env
	// says. A nil summary (with a nil error: the operator declined) means
	// the run did not start: nothing is printed or stored.
	run func(ctx context.Context, env hostEnv) (*fleet.Summary, error)
}

// hostEnv is what runHosts gives a hostCmd's run: its hosts, its run id,
// how to reach the hosts, and where its events go.
type hostEnv struct {
	inv     *inventory.Inventory
	targets []inventory.Target
	runID   string // the run's own id (claimed, or fresh)
	co      fleet.ConnectOptions
	dial    fleet.Dialer
	rep     fleet.Reporter // the --output format's consumer of the events
}

// runHosts runs h as every host command runs: the flags, the targets, the
// run id, the dialer, the reporter, the fleet's run, the summary, its
// record, the exit (hostsExit).
func runHosts(cmd *cobra.Command, f *commonFlags, h hostCmd) error {
	if err := f.validate(); err != nil {
		return err
	}
	inv, targets, err := h.targets()
	if err != nil {
		return err
	}
	started := time.Now()
	runID := fleet.NewRunID(started)
	if h.claim {
		var release func()
		if runID, release, err = fleet.ClaimRunID(f.stateDir, started); err != nil {
			return err
		}
		defer release()
	}
	co := f.connectOptions()
	if h.tagUploads {
		co.RunID = runID
	}
	dial := fleet.RemoteDialer(inv, co)
	reportID := runID
	if h.reportID != nil {
		reportID = h.reportID(runID)
	}
	rep, summary := f.reporter(cmd.OutOrStdout(), reportID)
	s, err := h.run(cmd.Context(), hostEnv{inv: inv, targets: targets, runID: runID, co: co, dial: dial, rep: rep})
	if s == nil {
		return err
	}
	summary(h.name, s)
	if h.claim {
		f.record(cmd, inv, targets, dial, h.reboots != nil && h.reboots(inv), started).store(cmd.Context(), h.name, runID, s)
	}
	if err != nil {
		return err
	}
	return hostsExit(s)
}

// hostsExit is the exit of a command whose hosts' work is done: 1 unless
// every host ended ok, unchanged or rolled back by a rollback (a host
// failed, or the run halted before a host finished), as the README's
// "Exit codes" says.
func hostsExit(s *fleet.Summary) error {
	if !s.OK() {
		return exitCode(exitFailedHosts)
	}
	return nil
}
