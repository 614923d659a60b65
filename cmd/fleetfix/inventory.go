package main

import (
	"fmt"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/spf13/cobra"
)

// inventoryCmd is the parent of the commands about inventory files
// themselves (schema, and import from import.go). newRootCmd attaches it once.
func inventoryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "Work with inventory files: print their JSON schema, import one from Ansible",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newInventorySchemaCmd(), newInventoryImportCmd())
	return cmd
}

func newInventorySchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON schema of an inventory file, for editors",
		Long: `schema prints the JSON schema (draft-07) of an inventory file: its keys, their
types and formats. Point an editor's YAML support at it to have inventories
checked and completed as they are written, e.g. with the yaml-language-server
comment on an inventory's first line:

  # yaml-language-server: $schema=./inventory.schema.json

Loading an inventory checks more than the schema can (hosts and groups that
must exist, local files, systemd's settings); plan reports those.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), string(inventory.Schema()))
			return err
		},
	}
}
