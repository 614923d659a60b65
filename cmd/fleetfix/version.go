package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is the binary's version as its build recorded it.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "fleetfix: no build information in this binary"
	}
	return versionText(bi)
}

// versionText describes a build: the main module's version, the VCS
// revision, its commit time and whether the tree had uncommitted changes,
// and the Go release and platform. The go command stamps the revision when
// it builds in a git checkout (make build asks for it); a build without it
// says so rather than leave the line out.
func versionText(bi *debug.BuildInfo) string {
	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "fleetfix %s\n", v)
	switch rev := set["vcs.revision"]; {
	case rev == "":
		b.WriteString("revision: unknown (built without VCS stamping)\n")
	case set["vcs.modified"] == "true":
		fmt.Fprintf(&b, "revision: %s (modified)\n", rev)
	default:
		fmt.Fprintf(&b, "revision: %s\n", rev)
	}
	if t := set["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "commit time: %s\n", t)
	}
	fmt.Fprintf(&b, "go: %s %s/%s", bi.GoVersion, set["GOOS"], set["GOARCH"])
	return b.String()
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print fleetfix's version and VCS revision (the same as --version)",
		Args:  usageArgs(cobra.NoArgs),
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), version())
		},
	}
}
