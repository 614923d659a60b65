// Command fleetfix rolls a service fix out to a fleet of Linux hosts over
// plain SSH, proves it worked, and undoes it safely.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitFailedHosts = 1 // the run ended with failed hosts
	exitUsage       = 2 // bad flags or arguments, or an invalid inventory
	exitInterrupted = 130
)

// usageError marks errors that are the caller's to fix (flags, arguments,
// inventory), so they exit with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() { os.Exit(runMain()) }

// runMain wires the signals and runs the command line; it returns the exit
// status, so that its deferred calls run before the process exits.
func runMain() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	halt := make(chan struct{})
	// The first Ctrl-C (or SIGTERM) is a graceful abort: no new host starts,
	// hosts in flight stop at their next step boundary. The second stops now.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "fleetfix: stopping: no new host starts, hosts in flight finish their current step (again to stop now)")
		close(halt)
		<-sigs
		fmt.Fprintln(os.Stderr, "fleetfix: stopping now")
		cancel()
	}()
	return run(interrupts{ctx: ctx, halt: halt}, os.Args[1:])
}

// interrupts are the operator's two stops as main learns them, given to
// every command that can stop: halt is closed by the first (the graceful
// abort), ctx is cancelled by the second (stop now) and is the commands'
// context.
type interrupts struct {
	ctx  context.Context
	halt <-chan struct{}
}

// interrupted reports whether the operator stopped the command.
func (in interrupts) interrupted() bool {
	select {
	case <-in.halt:
		return true
	default:
		return in.ctx.Err() != nil
	}
}

func run(in interrupts, args []string) int {
	root := newRootCmd(in)
	root.SetArgs(args)
	err := root.ExecuteContext(in.ctx)
	if err != nil && !errors.As(err, new(exitCode)) {
		fmt.Fprintln(os.Stderr, "fleetfix:", err)
	}
	if in.interrupted() {
		return exitInterrupted
	}
	if err == nil {
		return exitOK
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	if errors.As(err, new(usageError)) {
		return exitUsage
	}
	return exitFailedHosts
}

// exitCode ends a command with a status after it has reported for itself.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

func newRootCmd(in interrupts) *cobra.Command {
	root := &cobra.Command{
		Use:   "fleetfix",
		Short: "Roll a service fix out to a fleet over SSH, prove it worked, undo it safely",
		Long: `fleetfix rolls a service fix (a fixed build plus a systemd drop-in) out to a
fleet of Linux hosts over plain SSH, in canary-first rolling batches; it backs up
every file it replaces, verifies the service after restart, and can put every
host back exactly as it was.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Runnable, so that an unknown command is an argument error: a
		// usage error, as the README says, not cobra's exit 1.
		Args:                       unknownCommand,
		SuggestionsMinimumDistance: 2, // cobra's own default, which only its Args fill in
		RunE:                       func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		// Set, cobra gives the root --version; the flag is declared below
		// so that it takes no -v, which is --verbose everywhere else.
		Version:           version(),
		DisableAutoGenTag: true, // man pages stay the same from build to build
	}
	root.Flags().Bool("version", false, "print fleetfix's version and VCS revision")
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newRolloutCmd(in), newPlanCmd(in), newRollbackCmd(in), newPruneCmd(in), newScanCmd(), newRebootCmd(in), newUnlockCmd(), newReportCmd(), newLabCmd(in),
		inventoryCmd(), newVersionCmd(), newManCmd())
	root.AddCommand(newHostsCmd())
	return root
}

// unknownCommand refuses an argument to the root: a command that does not
// exist, with cobra's suggestions.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError{errors.New(msg)}
}

// usageArgs makes check's errors (a missing or extra argument) usage
// errors, which exit 2.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
