package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/jsonl"
	"github.com/spf13/cobra"
)

func newReportCmd() *cobra.Command {
	var f commonFlags
	var formatName, out, invPath string
	cmd := &cobra.Command{
		Use:   "report [RUN] [--format md|html|junit] [-o FILE] [-i INVENTORY]",
		Short: "Render a run's stored summary (the latest by default) for a ticket, a browser or CI",
		Long: `report renders the summary every rollout, reboot and rollback stores at its
end (<state-dir>/runs/<run id>/summary.json, and on each host beside the run's
manifest, ` + fleet.RemoteSummaryPath("<run id>") + `): md for a change ticket, html as one
self-contained page (stop times before and after on a log scale, the reboot
timeline, the files changed), junit for CI (a test case per host and unit). With
-i, a summary missing from the state directory is read from the inventory's hosts.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := reportFormatNamed(formatName, false)
			if err != nil {
				return err
			}
			id := ""
			if len(args) == 1 {
				if id = args[0]; !fleet.ValidRunID(id) {
					return usageError{fmt.Errorf("run %q: want a run id such as 20261124_213045", id)}
				}
			}
			data, err := findSummary(cmd, &f, invPath, id)
			if err != nil {
				return err
			}
			sum, err := jsonl.DecodeSummary(data)
			if err != nil {
				return err
			}
			b, err := fm.run(sum)
			if err != nil {
				return err
			}
			return writeOut(cmd.OutOrStdout(), out, b)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&formatName, "format", "md", "md, html or junit")
	fl.StringVarP(&out, "output", "o", "-", "write to this file (-: standard output)")
	fl.StringVarP(&invPath, "inventory", "i", "", "read the summary from this inventory's hosts when the state directory has none")
	fl.StringVar(&f.stateDir, "state-dir", defaultStateDir(), "where runs store their summaries")
	fl.BoolVar(&f.tofu, "trust-on-first-use", false, "with -i: accept and record the key of a host not yet in known_hosts")
	fl.StringVar(&f.passwordFile, "become-password-file", "", "with -i: read the sudo password from this file instead of prompting")
	return cmd
}

// findSummary reads run id's stored summary (the latest when id is ""):
// from the state directory, else, with an inventory, from its hosts.
func findSummary(cmd *cobra.Command, f *commonFlags, invPath, id string) ([]byte, error) {
	data, err := localSummary(f.stateDir, id)
	if err == nil || !errors.Is(err, errNoLocalSummary) {
		return data, err
	}
	which := "the latest run"
	if id != "" {
		which = "run " + id
	}
	if invPath == "" {
		return nil, fmt.Errorf("%s: no stored summary in %s (give -i INVENTORY to read it from the hosts)", which, f.stateDir)
	}
	inv, err := inventory.Load(invPath)
	if err != nil {
		return nil, usageError{err}
	}
	data, err = hostSummary(cmd.Context(), inv, fleet.RemoteDialer(inv, f.connectOptions()), id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", which, err)
	}
	return data, nil
}

// writeOut writes b to the file path, or to w for "-".
func writeOut(w io.Writer, path string, b []byte) error {
	if path == "-" || path == "" {
		_, err := w.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil { //nolint:gosec // G306: a report is written to be shared
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
