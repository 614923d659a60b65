package fleet

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// A script is a remote shell script. Each runs as `sh -c SCRIPT NAME
// ARGS...`: values reach the script only as positional parameters, never
// spliced into its text, so no path or unit name can be executed.
type script struct {
	name string
	body string
	// shell runs the script: "" is sh.
	shell string
}

func (s script) argv(args []string) []string {
	shell := s.shell
	if shell == "" {
		shell = "sh"
	}
	return append([]string{shell, "-c", s.body, "fleetfix-" + s.name}, args...)
}

func runScript(ctx context.Context, h Host, s script, args ...string) ([]byte, error) {
	return h.Run(ctx, s.argv(args)...)
}

// runScriptInput is runScript with stdin.
func runScriptInput(ctx context.Context, h Host, stdin []byte, s script, args ...string) ([]byte, error) {
	return h.RunInput(ctx, stdin, s.argv(args)...)
}

// exitStatus is the exit status of the remote command that failed with
// err, or -1 when err is not a command's non-zero exit (a lost connection,
// a timeout).
func exitStatus(err error) int {
	var exit interface{ ExitStatus() int }
	if errors.As(err, &exit) {
		return exit.ExitStatus()
	}
	return -1
}

// readOnlyScripts change nothing; a dry run runs them for real.
var readOnlyScripts = []script{scriptFacts, scriptPreflight, scriptListRuns, scriptJournal, scriptScan, scriptLockShow, scriptRestartJournal, scriptInFlight, scriptListen}

// isReadOnlyScript reports whether argv runs one of the read-only scripts,
// matched by its exact text.
func isReadOnlyScript(argv []string) bool {
	if len(argv) < 3 || argv[0] != "sh" || argv[1] != "-c" {
		return false
	}
	return slices.ContainsFunc(readOnlyScripts, func(s script) bool { return s.body == argv[2] })
}

// lockedStatus is the exit status of a script that found the lock held.
const lockedStatus = 75

// scriptFiles holds the scripts' text, one file each (scripts.go lists
// them); lib/ holds the fragments they include.
//
//go:embed scripts
var scriptFiles embed.FS

// mustScript reads the script in file, under scripts/: its name is the
// file's without the extension, and a .bash file runs in bash, any other
// in sh. A missing file panics: they are embedded, so the tests see it.
func mustScript(file string) script {
	body, err := scriptText(file)
	if err != nil {
		panic(err)
	}
	name, ext, _ := strings.Cut(file, ".")
	s := script{name: name, body: body}
	if ext == "bash" {
		s.shell = "bash"
	}
	return s
}

// scriptText is file's text as it runs: without its header comment (the
// leading lines that start with "#"), which documents it but need not
// travel to every host, and with each line "#include FILE" replaced by
// FILE's text.
func scriptText(file string) (string, error) {
	data, err := scriptFiles.ReadFile(path.Join("scripts", file))
	if err != nil {
		return "", fmt.Errorf("script %s: %w", file, err)
	}
	text := string(data)
	for strings.HasPrefix(text, "#") && !strings.HasPrefix(text, includeDirective) {
		_, text, _ = strings.Cut(text, "\n")
	}
	var b strings.Builder
	for line := range strings.SplitAfterSeq(text, "\n") {
		inc, ok := strings.CutPrefix(line, includeDirective)
		if !ok {
			b.WriteString(line)
			continue
		}
		sub, err := scriptText(strings.TrimSuffix(inc, "\n"))
		if err != nil {
			return "", fmt.Errorf("script %s: %w", file, err)
		}
		b.WriteString(sub)
	}
	return b.String(), nil
}

// includeDirective starts a script's line that stands for another file.
const includeDirective = "#include "
