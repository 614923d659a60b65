package remote

import (
	"strconv"
	"testing"

	"github.com/fleetfix/fleetfix/internal/shscript"
)

// TestScriptsSyntax parses every embedded script, as it runs, with each
// shell that may run it.
func TestScriptsSyntax(t *testing.T) {
	shscript.Check(t, scriptFiles, "scripts")
}

// TestScriptFilesUsed: every file in scripts/ is the script of exactly one
// mustScript or mustLine; each starts with its header comment.
func TestScriptFilesUsed(t *testing.T) {
	shscript.CheckUsed(t, scriptFiles, "scripts", "mustScript", "mustLine")
}

// TestScriptsSpeakConstants: the one-line scripts write and read the
// strings the Go side looks for (sudogate, sudoFailure, pidFilter), so the
// two cannot drift apart.
func TestScriptsSpeakConstants(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"sudo-guard.sh", sudoGuard, "echo '" + sudoReady + "' >&2; IFS= read -r l || l=; if [ \"$l\" != '" + sudoMarker + "' ]; then " +
			"echo '" + sudoGuardMsg + "' >&2; exit " + strconv.Itoa(sudoGuardStatus) + "; fi; l=; exec \"$@\""},
		{"pid-announce.sh", pidAnnounce, "echo \"" + pidPrefix + "$$\" >&2"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s is\n%q, want\n%q", tt.name, tt.got, tt.want)
		}
	}
}
