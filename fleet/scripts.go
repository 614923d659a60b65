package fleet

import (
	"context"
	"embed"
	"errors"
	"slices"
	"strings"

	"github.com/fleetfix/fleetfix/internal/shscript"
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

// The remote scripts, each from its file in scripts/, whose header says
// what it does, its parameters, its output and its exit statuses.
var (
	scriptFacts        = mustScript("facts.sh")         // what a run needs to know of a host
	scriptPreflight    = mustScript("preflight.sh")     // facts, units, target files and runs, for preflight
	scriptListRuns     = mustScript("list-runs.sh")     // the runs directory's entries
	scriptBackup       = mustScript("backup.sh")        // back files up, never overwriting a backup
	scriptRestore      = mustScript("restore.sh")       // put a checked backup back, atomically
	scriptHealth       = mustScript("health.bash")      // restart a unit and wait until it is healthy
	scriptRemoveDirs   = mustScript("remove-dirs.sh")   // remove the empty directories a run made
	scriptLock         = mustScript("lock.sh")          // take the host's run lock
	scriptUnlock       = mustScript("unlock.sh")        // release it
	scriptLockRenew    = mustScript("lock-renew.sh")    // renew its lease
	scriptLockShow     = mustScript("lock-show.sh")     // who holds it
	scriptCleanTemps   = mustScript("clean-temps.sh")   // remove a run's leftover upload temporaries
	scriptSaveManifest = mustScript("save-manifest.sh") // write the run manifest atomically, lock or unlock
	scriptReload       = mustScript("reload.sh")        // daemon-reload, then show the units
	scriptJournal      = mustScript("journal.sh")       // a boot's shutdown records, for journal.ParseShutdown
	scriptScan         = mustScript("scan.sh")          // the previous boot's, if the journal is persistent
	scriptGuardInstall = mustScript("guard-install.sh") // install a run's guard for the next boot
	scriptGuardRemove  = mustScript("guard-remove.sh")  // remove it, saying if it restored the host
	scriptGuardRestore = mustScript("guard-restore.sh") // the guard's own restore, run by its unit

	scriptRestart        = mustScript("restart.bash")       // restart units together, the old build's stop bounded
	scriptRestartJournal = mustScript("restart-journal.sh") // PID 1's records of a restart, for journal.ParseRestart
	scriptInFlight       = mustScript("inflight.sh")        // each unit's established TCP connections
	scriptListen         = mustScript("listen.sh")          // the TCP sockets each unit listens on
)

// readOnlyScripts change nothing; a dry run runs them for real.
var readOnlyScripts = []script{scriptFacts, scriptPreflight, scriptListRuns, scriptJournal, scriptScan, scriptLockShow, scriptRestartJournal, scriptInFlight, scriptListen}

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

// scriptFiles holds the scripts' text, one file each under scripts/;
// scripts/lib/ holds the fragments they include.
//
//go:embed scripts
var scriptFiles embed.FS

// mustScript reads the script in file, under scripts/, as it runs
// (shscript.Text): its name is the file's without the extension, and a
// .bash file runs in bash, any other in sh. A missing file panics: they
// are embedded, so the tests see it.
func mustScript(file string) script {
	body, err := shscript.Text(scriptFiles, "scripts", file)
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
