package fleet

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
