package fleet

import (
	"strings"
	"testing"
)

// The MESSAGE_IDs the query filters on for journal.ParseShutdown, from
// systemd's catalog: logind's "System is rebooting.", a unit's
// "Deactivated successfully." and its "Failed with result 'X'.".
const (
	msgLogindShutdown  = "98268866d1d54a499c4e98921d93bc40"
	msgUnitDeactivated = "7ad2d189f7e94e70a38c781354912448"
	msgUnitFailed      = "d9b373ed55a64feb8242e02dbe79a49c"
)

func TestShutdownQuery(t *testing.T) {
	argv := ShutdownQuery()
	if len(argv) != 4 || argv[0] != "sh" || argv[1] != "-c" || argv[2] != scriptJournal.body || argv[3] != "fleetfix-journal" {
		t.Fatalf("argv %q", argv)
	}
	if !isReadOnlyScript(argv) {
		t.Error("the dry-run host would not run the journal query")
	}
	body := scriptJournal.body
	for _, want := range []string{"b=${1:--1}", `--boot="$b" `, "--output=json", "--lines=1 ", "_PID=1 JOB_TYPE=stop JOB_TYPE=restart",
		"_COMM=systemd-logind MESSAGE_ID=" + msgLogindShutdown, "MESSAGE_ID=" + msgUnitDeactivated, "MESSAGE_ID=" + msgUnitFailed, "UNIT=reboot.target"} {
		if !strings.Contains(body, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	// Every field journal.ParseShutdown reads is printed (the __ ones and _BOOT_ID
	// always are).
	fields := map[string]bool{}
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, "f="); ok {
			for _, f := range strings.Split(v, ",") {
				fields[f] = true
			}
		}
	}
	for _, f := range []string{"MESSAGE", "MESSAGE_ID", "UNIT", "JOB_ID", "JOB_TYPE", "UNIT_RESULT", "INVOCATION_ID", "_PID", "_SOURCE_REALTIME_TIMESTAMP"} {
		if !fields[f] {
			t.Errorf("--output-fields lacks %s", f)
		}
	}
	if strings.Contains(body, "$1") || strings.Contains(body, "$@") {
		t.Error("the script takes arguments; it must not")
	}
}
