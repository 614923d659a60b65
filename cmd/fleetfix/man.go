package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func newManCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "man [COMMAND...] [--dir DIR]",
		Short: "Print the man page of fleetfix (or of COMMAND), or write every command's into --dir",
		Long: `man prints a man page generated from the commands' own help: fleetfix(1), or
with COMMAND (e.g. "man rollout") fleetfix-rollout(1); read one with
"fleetfix man rollout | man -l -". With --dir it writes every command's page
there instead (fleetfix.1, fleetfix-rollout.1, ...), e.g. for
/usr/local/share/man/man1.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			header := &doc.GenManHeader{Title: "FLEETFIX", Section: "1", Manual: "fleetfix manual", Source: "fleetfix"}
			root := cmd.Root()
			literalHelp(root)
			if dir != "" {
				if len(args) > 0 {
					return usageError{fmt.Errorf("--dir writes every command's page: name no command")}
				}
				return doc.GenManTree(root, header, dir)
			}
			page, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return usageError{fmt.Errorf("man %v: no such command", args)}
			}
			return doc.GenMan(page, header, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "write one page per command into this directory")
	return cmd
}

// literalHelp escapes, in every command's help, the characters that
// cobra/doc's Markdown would take for markup: "<path>.bak.<run id>" would
// be read as HTML and dropped from the page. The process ends after the man
// page is written, so the change is seen by nothing else.
func literalHelp(cmd *cobra.Command) {
	esc := strings.NewReplacer(`\`, `\\`, "<", `\<`, "*", `\*`, "`", "\\`")
	cmd.Short, cmd.Long = esc.Replace(cmd.Short), esc.Replace(cmd.Long)
	for _, c := range cmd.Commands() {
		literalHelp(c)
	}
}
