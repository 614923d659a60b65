package fleet

// ShutdownQuery is the remote argv whose stdout journal.ParseShutdown
// reads: the previous boot's (offset -1) shutdown records as journalctl -o
// json lines (scripts/journal.sh, which takes another boot as its first
// argument). It changes nothing on the host.
func ShutdownQuery() []string {
	return scriptJournal.argv(nil)
}
