package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/spf13/cobra"
)

func init() {
	extraCommands = append(extraCommands, newScanCmd, newRebootCmd)
}

func newScanCmd() *cobra.Command {
	var f commonFlags
	var top, parallel int
	cmd := &cobra.Command{
		Use:   "scan INVENTORY",
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
			inv, targets, err := loadTargets(args[0], f.limit)
			if err != nil {
				return err
			}
			start := time.Now()
			var rep fleet.Reporter = fleet.ReporterFunc(func(fleet.Event) {})
			if f.output == "plain" && f.verbose {
				rep = &plainReporter{w: cmd.ErrOrStderr(), verbose: true}
			}
			results := fleet.Scan(cmd.Context(), fleet.ScanOptions{Inventory: inv, Targets: targets,
				Dial: fleet.RemoteDialer(inv, f.connectOptions()), Reporter: rep, Top: top, Parallel: parallel})
			failed := 0
			for _, r := range results {
				if r.Err() != nil {
					failed++
				}
			}
			if f.output == "json" {
				writeScanJSON(cmd.OutOrStdout(), results, time.Since(start))
			} else {
				printScan(cmd.OutOrStdout(), results, time.Since(start))
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
	return cmd
}

func printScan(w io.Writer, results []fleet.ScanResult, took time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tUNIT\tSTOP\tRESULT\tTIMEOUTSTOPSEC\tKILLMODE")
	killed := 0
	for _, r := range results {
		switch {
		case r.Error != "":
			fmt.Fprintf(tw, "%s\t-\t-\terror: %s\t\t\n", r.Host, r.Error)
			continue
		case r.Note != "":
			fmt.Fprintf(tw, "%s\t-\t-\tno timings: %s\t\t\n", r.Host, r.Note)
			continue
		}
		for _, u := range r.Units {
			result := u.Result
			if u.Killed {
				result = "SIGKILLed (" + u.Result + ")"
				killed++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Host, u.Unit, fmtStop(u.Duration), result, u.TimeoutStop, u.KillMode)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "%d host(s) scanned in %s; %d unit stop(s) ended in SIGKILL\n", len(results), fmtDur(took), killed)
}

func fmtStop(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.3fs", d.Seconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// jsonScan is the documented shape of scan's single JSON line.
type jsonScan struct {
	Schema     int            `json:"schema"`
	Type       string         `json:"type"` // "scan"
	DurationMS float64        `json:"duration_ms"`
	Hosts      []jsonScanHost `json:"hosts"`
}

type jsonScanHost struct {
	Host       string         `json:"host"`
	ShutdownMS float64        `json:"shutdown_ms,omitempty"`
	Note       string         `json:"note,omitempty"`
	Error      string         `json:"error,omitempty"`
	Units      []jsonScanUnit `json:"units"`
}

type jsonScanUnit struct {
	jsonStop
	TimeoutStop string `json:"timeout_stop"`
	KillMode    string `json:"kill_mode"`
}

func writeScanJSON(w io.Writer, results []fleet.ScanResult, took time.Duration) {
	out := jsonScan{Schema: JSONSchema, Type: "scan", DurationMS: ms(took), Hosts: []jsonScanHost{}}
	for _, r := range results {
		h := jsonScanHost{Host: r.Host, ShutdownMS: ms(r.ShutdownDuration), Note: r.Note, Error: r.Error, Units: []jsonScanUnit{}}
		for _, u := range r.Units {
			h.Units = append(h.Units, jsonScanUnit{jsonStop: stopJSON(u.UnitStop), TimeoutStop: u.TimeoutStop, KillMode: u.KillMode})
		}
		out.Hosts = append(out.Hosts, h)
	}
	json.NewEncoder(w).Encode(out)
}

func newRebootCmd() *cobra.Command {
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
			inv, targets, err := loadTargets(invPath, append(f.limit, args...))
			if err != nil {
				return err
			}
			runID := fleet.NewRunID(time.Now())
			rep, summary := f.reporter(cmd.OutOrStdout(), runID)
			s, err := fleet.Reboot(cmd.Context(), fleet.Options{Inventory: inv, Targets: targets,
				Dial: fleet.RemoteDialer(inv, f.connectOptions()), Reporter: rep, RunID: runID, Halt: haltOf(cmd.Context())})
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
