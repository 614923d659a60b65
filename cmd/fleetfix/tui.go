package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/plain"
	"github.com/fleetfix/fleetfix/tui"
	"github.com/spf13/cobra"
)

// runRolloutTUI plans the rollout o, shows the plan in the TUI and, once the
// operator confirms, runs it in a tui.Session the TUI shows live and steers.
// When the TUI exits before the run ended, the run is halted gracefully and
// its remaining events go to o.Reporter; the summary (with the TUI's
// rollbacks folded in) is returned, nil when the operator quit at the
// plan. An operator's abort returns exitInterrupted with it.
func runRolloutTUI(cmd *cobra.Command, in interrupts, o fleet.Options) (*fleet.Summary, error) {
	ctx := cmd.Context()
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	rep := o.Reporter // the session has its own
	fmt.Fprintf(errOut, "fleetfix: planning %d host(s)...\n", len(o.Targets))
	plan, err := tui.Plan(ctx, o)
	if err != nil {
		return nil, err
	}
	if in.interrupted() {
		return nil, nil // Ctrl-C while planning: nothing changed; run() exits 130
	}

	sess := tui.NewSession(ctx, o)
	title := fmt.Sprintf("fleetfix rollout %s (run %s)", o.Inventory.Path, o.RunID)
	res, tuiErr := tui.Run(ctx, tui.Config{Title: title, Hosts: tui.PlanRows(o.Inventory, o.SSHConfig, o.Targets, plan), Plan: plan,
		Events: sess.Events(), Controls: sess.Controls(), Steps: fleet.Steps(o), Policy: tui.PolicyOf(o.Inventory, o.SSHConfig, o.Targets)})

	if !sess.Started() {
		if _, err := sess.Wait(nil); err != nil {
			return nil, err
		}
		if tuiErr != nil {
			return nil, tuiErr
		}
		fmt.Fprintln(out, "fleetfix: rollout not started: nothing changed")
		if res.Interrupted {
			return nil, exitCode(exitInterrupted)
		}
		return nil, nil
	}
	if sess.Running() {
		fmt.Fprintln(errOut, "fleetfix: stopping: no new host starts, hosts in flight finish their current step (Ctrl-C twice: stop now)")
	}
	for _, e := range res.Unshown {
		rep.Report(e)
	}
	sum, err := sess.Wait(rep)
	if err != nil {
		return nil, err
	}
	if tuiErr != nil {
		fmt.Fprintln(errOut, "fleetfix: tui:", tuiErr)
	}
	if sess.Aborted() {
		return sum, exitCode(exitInterrupted)
	}
	return sum, nil
}

// confirmPlain plans the rollout o in plain lines and asks on stdin
// whether to start it, as the TUI's plan screen would: on a dumb terminal
// nothing changes a host unconfirmed. False (and "not started") unless
// the answer is yes.
func confirmPlain(cmd *cobra.Command, o fleet.Options) (bool, error) {
	out := cmd.OutOrStdout()
	p := o
	p.Reporter = plain.NewReporter(out, false)
	p.Halt = nil
	if _, err := fleet.Rollout(cmd.Context(), fleet.PlanOptions(p)); err != nil {
		return false, err
	}
	if !askStart(cmd.InOrStdin(), out) {
		fmt.Fprintln(out, "fleetfix: rollout not started: nothing changed")
		return false, nil
	}
	return true, nil
}

// askStart asks whether to start the rollout; only y or yes is a yes.
func askStart(in io.Reader, out io.Writer) bool {
	fmt.Fprint(out, "Start the rollout? [y/N] ")
	line, _ := bufio.NewReader(in).ReadString('\n') // EOF: no answer, no
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
