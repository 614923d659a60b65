package main

import (
	"fmt"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/suggest"
	"github.com/spf13/cobra"
)

// suggestFlags registers scan's --suggest. It takes the file as its value
// (--suggest=FILE) because scan's -o is the output format.
func suggestFlags(cmd *cobra.Command, to *string, force *bool) {
	cmd.Flags().StringVar(to, "suggest", "", "also write the services: entries that fix the SIGKILLed and slow units to this file (bare --suggest: inventory-fix.yaml)")
	cmd.Flags().Lookup("suggest").NoOptDefVal = "inventory-fix.yaml"
	cmd.Flags().BoolVar(force, "force", false, "overwrite the --suggest file if it exists")
}

// writeSuggestion writes scan --suggest's file, or says there is nothing
// to fix.
func writeSuggestion(cmd *cobra.Command, inv *inventory.Inventory, source string, results []fleet.ScanResult, to string, force bool) error {
	data := suggest.Render(results, suggest.Options{Inventory: inv, Source: source})
	if data == nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "scan --suggest: no unit was SIGKILLed or slow to stop; nothing written")
		return nil
	}
	if err := writeOutput(cmd.OutOrStdout(), to, force, data); err != nil {
		return fmt.Errorf("scan --suggest: %w", err)
	}
	if to != "-" {
		fmt.Fprintf(cmd.ErrOrStderr(), "scan --suggest: wrote %s; review it, then: fleetfix plan --hosts-from %s %s\n", to, source, to)
	}
	return nil
}
