package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// commonFlags are shared by the commands that reach hosts.
type commonFlags struct {
	limit        []string
	output       string
	format       format // the --output format, set by validate
	plain        bool
	verbose      bool
	stateDir     string
	tofu         bool
	passwordFile string
	hostsFrom    string
	ssh          sshFlags
}

func (f *commonFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVarP(&f.limit, "limit", "l", nil, "only these hosts or groups (comma-separated, repeatable)")
	fl.StringVarP(&f.output, "output", "o", formats()[0].name, formatsHelp())
	fl.BoolVar(&f.plain, "plain", false, "plain line output even on a terminal")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "also print step starts and informational lines")
	fl.StringVar(&f.stateDir, "state-dir", defaultStateDir(), "local copy of run manifests")
	fl.BoolVar(&f.tofu, "trust-on-first-use", false, "accept and record the key of a host not yet in known_hosts (never a changed key)")
	fl.StringVar(&f.passwordFile, "become-password-file", "", "read the sudo password from this file instead of prompting (for hosts with become_password: true)")
	fl.StringVar(&f.hostsFrom, "hosts-from", "", "take the hosts from ansible:FILE (an Ansible inventory) or from a fleetfix inventory FILE, the services and rollout from INVENTORY")
	f.ssh.register(cmd)
}

// validate checks the flags and resolves the output format.
func (f *commonFlags) validate() error {
	fm, err := formatNamed(f.output)
	f.format = fm
	return err
}

func defaultStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "fleetfix")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "fleetfix")
	}
	return ""
}

// loadTargets loads the inventory and picks the hosts; every mistake is a
// usage error, reported before any host is touched, as is a sudo password
// the run cannot get (see passwordSource).
func (f *commonFlags) loadTargets(path string, limit []string) (*inventory.Inventory, []inventory.Target, error) {
	inv, err := loadInventory(path, f.hostsFrom, os.Stderr)
	if err != nil {
		return nil, nil, usageError{err}
	}
	targets, err := inv.Select(limit)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--limit: %w", err)}
	}
	if len(targets) == 0 {
		return nil, nil, usageError{errors.New("no hosts selected")}
	}
	if err := passwordSource(inv, targets, f.passwordFile, haveTerminal); err != nil {
		return nil, nil, usageError{err}
	}
	return inv, targets, nil
}

// passwordSource refuses a run that needs the sudo password (a target with
// become_password: true) with nowhere to read it from: no
// --become-password-file and no terminal to prompt on. Found at the first
// host's connect instead, it would fail every host, one dial each.
func passwordSource(inv *inventory.Inventory, targets []inventory.Target, passwordFile string, terminal func() bool) error {
	if passwordFile != "" {
		return nil
	}
	var need []string
	for _, t := range targets {
		if inv.Resolve(t).BecomePassword {
			need = append(need, t.Name)
		}
	}
	if len(need) == 0 || terminal() {
		return nil
	}
	if len(need) > 3 {
		need = append(need[:3], fmt.Sprintf("and %d more", len(need)-3))
	}
	return fmt.Errorf("%s: become_password is true but there is no terminal to ask for the sudo password on; give --become-password-file FILE", strings.Join(need, ", "))
}

// haveTerminal reports whether the process has a terminal to prompt on.
func haveTerminal() bool {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	_ = tty.Close() // opened only to see that it opens
	return true
}

// connectOptions prompts for secrets at most once per run, on the terminal;
// they are kept in memory only and never printed.
func (f *commonFlags) connectOptions() fleet.ConnectOptions {
	var once sync.Once
	var pw []byte
	var pwErr error
	become := func() ([]byte, error) {
		once.Do(func() {
			if f.passwordFile != "" {
				b, err := os.ReadFile(f.passwordFile)
				if err != nil {
					pwErr = fmt.Errorf("become password file: %w", err)
					return
				}
				line, _, _ := strings.Cut(string(b), "\n")
				pw = []byte(strings.TrimSuffix(line, "\r"))
				return
			}
			pw, pwErr = promptSecret("sudo password: ")
		})
		return bytes.Clone(pw), pwErr
	}
	var mu sync.Mutex
	phrases := map[string][]byte{}
	passphrase := func(file string) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if p, ok := phrases[file]; ok {
			return bytes.Clone(p), nil
		}
		p, err := promptSecret("passphrase for " + file + ": ")
		if err == nil {
			phrases[file] = p
		}
		return bytes.Clone(p), err
	}
	return f.ssh.apply(fleet.ConnectOptions{TrustOnFirstUse: f.tofu, BecomePassword: become, Passphrase: passphrase}, f.verbose)
}

func promptSecret(prompt string) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, errors.New("a secret is needed but there is no terminal to ask on (use --become-password-file or ssh-agent)")
	}
	defer func() { _ = tty.Close() }() // read only: nothing to lose
	fmt.Fprint(tty, prompt)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	return b, err
}

// reporter builds the output consumer for the flags.
func (f *commonFlags) reporter(w io.Writer, runID string) (fleet.Reporter, func(string, *fleet.Summary)) {
	return f.format.run(w, runID, f.verbose)
}

func newRolloutCmd(in interrupts) *cobra.Command {
	var f commonFlags
	var inv inventoryArg
	var dryRun, noReboot bool
	cmd := &cobra.Command{
		Use:   "rollout [INVENTORY | -i INVENTORY]",
		Short: "Roll the fix out to the inventory's hosts in canary-first rolling batches",
		Long: `rollout applies each service's fix to every selected host: preflight, back up
every file it will replace (<path>.bak.<run id>), push the artifacts, write the
drop-ins, daemon-reload (and check the settings took), restart (and check the
unit is active and healthy). Canary hosts go first, then batches; when more
hosts fail than the failure budget allows, no new host starts.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _, err := inv.split(args, false)
			if err != nil {
				return err
			}
			return runRollout(cmd, in, &f, path, dryRun, noReboot)
		},
	}
	f.register(cmd)
	inv.register(cmd, false)
	cmd.Flags().BoolVarP(&dryRun, "dry-run", "n", false, "show what would change on each host and change nothing (same as plan)")
	cmd.Flags().BoolVar(&noReboot, "no-reboot", false, "skip the cold reboot and the journal stop timings (the policy's reboot: true)")
	return cmd
}

func newPlanCmd(in interrupts) *cobra.Command {
	var f commonFlags
	var inv inventoryArg
	cmd := &cobra.Command{
		Use:   "plan [INVENTORY | -i INVENTORY]",
		Short: "Show, per host, what a rollout would change (files old -> new sha256, drop-in diff); changes nothing",
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _, err := inv.split(args, false)
			if err != nil {
				return err
			}
			return runRollout(cmd, in, &f, path, true, true)
		},
	}
	f.register(cmd)
	inv.register(cmd, false)
	return cmd
}

// runRollout runs a rollout, or a plan (fleet.PlanOptions), in the front
// end the flags and the terminal choose (frontEnd).
func runRollout(cmd *cobra.Command, in interrupts, f *commonFlags, path string, dry, noReboot bool) error {
	name := "rollout"
	if dry {
		name = "plan"
	}
	return runHosts(cmd, f, hostCmd{name: name, claim: !dry, tagUploads: true,
		targets: func() (*inventory.Inventory, []inventory.Target, error) { return f.loadTargets(path, f.limit) },
		reboots: func(inv *inventory.Inventory) bool { return inv.Rollout.Reboot && !noReboot },
		run: func(ctx context.Context, env hostEnv) (*fleet.Summary, error) {
			o := fleet.Options{Inventory: env.inv, Targets: env.targets, Dial: env.dial, SSHConfig: env.co.SSHConfig, Reporter: env.rep,
				RunID: env.runID, StateDir: f.stateDir, NoReboot: noReboot, Halt: in.halt}
			switch f.frontEnd(consoleOf(cmd.OutOrStdout()), dry) {
			case frontTUI:
				return runRolloutTUI(cmd, in, o)
			case frontConfirm:
				if ok, err := confirmPlain(cmd, o); !ok || err != nil {
					return nil, err
				}
			case frontLines:
			}
			if dry {
				o = fleet.PlanOptions(o)
			}
			return fleet.Rollout(ctx, o)
		},
	})
}

func newRollbackCmd(in interrupts) *cobra.Command {
	var f commonFlags
	var hosts hostArgs
	var runID string
	var force bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "rollback [INVENTORY | -i INVENTORY] [HOST...] [--all] [--run ID] [--force]",
		Short: "Put hosts back exactly as they were before a run, from the manifest and backups on each host",
		Long: `rollback restores, on each named host (or --all), the files of the latest run
that is not rolled back yet (or of --run ID) from their backups, checked against
the sha256 recorded before the run; removes the files the run created;
daemon-reload; restarts the units that were active; checks they are healthy.
It needs only the inventory: the manifest lives on the host. Every backup and
every file is checked before anything is touched: a corrupt backup, or a file
edited since the run (unless --force), leaves the host as it is.
A first argument that ends in .yaml or .yml, or (without -i) names an existing
file, is the inventory; the others are hosts.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The rollback's own record has a run id of its own; its events
			// name the run it undoes.
			return runHosts(cmd, &f, hostCmd{name: "rollback", claim: true,
				reportID: func(string) string { return runID },
				targets: func() (*inventory.Inventory, []inventory.Target, error) {
					if runID != "" && !fleet.ValidRunID(runID) {
						return nil, nil, usageError{fmt.Errorf("--run %q: want a run id such as 20261124_213045", runID)}
					}
					return hosts.targets(&f, args, "roll back")
				},
				run: func(ctx context.Context, env hostEnv) (*fleet.Summary, error) {
					return fleet.Rollback(ctx, fleet.RollbackOptions{Inventory: env.inv, Targets: env.targets,
						Dial: env.dial, Reporter: env.rep, RunID: runID, StateDir: f.stateDir, Timeout: timeout,
						Halt: in.halt, Force: force})
				},
			})
		},
	}
	f.register(cmd)
	hosts.register(cmd, "roll back")
	cmd.Flags().StringVar(&runID, "run", "", "the run to undo (default: each host's latest run not rolled back)")
	cmd.Flags().BoolVar(&force, "force", false, "restore files edited since the run (an operator's hotfix) instead of refusing the host")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "time a host's rollback may take; it is not interrupted by Ctrl-C")
	return cmd
}
