package fleet

import (
	"testing"

	"github.com/fleetfix/fleetfix/internal/shscript"
)

// TestScriptsSyntax parses every embedded script, as it runs, with each
// shell that may run it.
func TestScriptsSyntax(t *testing.T) {
	shscript.Check(t, scriptFiles, "scripts")
}

// TestScriptFilesUsed: every file in scripts/ is the script of exactly one
// mustScript, or a fragment in lib/ that some script includes; each starts
// with its header comment.
func TestScriptFilesUsed(t *testing.T) {
	shscript.CheckUsed(t, scriptFiles, "scripts", "mustScript")
}
