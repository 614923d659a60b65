package remote

import (
	"embed"
	"fmt"
	"strings"

	"github.com/fleetfix/fleetfix/internal/shscript"
)

// scriptFiles holds the transport's own shell scripts, one file each under
// scripts/, whose header says what it does.
//
//go:embed scripts
var scriptFiles embed.FS

// mustScript is the text of the script in file, under scripts/, as it runs
// (shscript.Text).
func mustScript(file string) string { return scriptText(file, false) }

// mustLine is mustScript for a script of one line, without its newline:
// a fragment spliced into a command line, where a newline would end the
// command before the rest.
func mustLine(file string) string { return scriptText(file, true) }

// scriptText is mustScript's text, or with line mustLine's. A missing file,
// or for a line more than one, panics: they are embedded, so the tests see
// it.
func scriptText(file string, line bool) string {
	text, err := shscript.Text(scriptFiles, "scripts", file)
	if err != nil {
		panic(err)
	}
	if !line {
		return text
	}
	text, ok := strings.CutSuffix(text, "\n")
	if !ok || strings.Contains(text, "\n") {
		panic(fmt.Sprintf("script %s: not one line", file))
	}
	return text
}
