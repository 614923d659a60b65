package fleet

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/journal"
)

// exitErr is what a remote command's non-zero exit looks like to fleet.
type exitErr struct {
	status int
	stderr string
}

func (e exitErr) Error() string {
	return "exited with status " + strconv.Itoa(e.status) + ": " + e.stderr
}
func (e exitErr) ExitStatus() int { return e.status }

// journalHost answers the journal script with out or err.
type journalHost struct {
	rebootingHost
	out  string
	err  error
	args []string
}

func (j *journalHost) Run(_ context.Context, argv ...string) ([]byte, error) {
	j.args = argv
	return []byte(j.out), j.err
}

func TestLastShutdownNotes(t *testing.T) {
	tests := []struct {
		name       string
		persistent bool
		boot       string
		before     bool
		err        error
		wantNote   string
		wantErr    bool
	}{
		{name: "no persistent journal", persistent: false, wantNote: "no persistent journal"},
		{name: "no previous boot", persistent: true, err: exitErr{1, "Data from the specified boot (-1) is not available: No such boot ID in journal"}, wantNote: "no previous boot"},
		{name: "that boot is gone", persistent: true, boot: "2c1f9b1e-0000-4000-8000-000000000001", err: exitErr{1, "No such boot ID in journal"}, wantNote: "is not in the journal"},
		{name: "no boot before that one", persistent: true, boot: "2c1f9b1e-0000-4000-8000-000000000001", before: true,
			err: exitErr{1, "Data from the specified boot (2c1f9b1e000040008000000000000001) is not available: No such boot ID in journal"}, wantNote: "no boot before 2c1f9b1e"},
		{name: "no boot before that one, systemd 257", persistent: true, boot: "2c1f9b1e-0000-4000-8000-000000000001", before: true,
			err: exitErr{1, "No journal boot entry found for the specified boot (2c1f9b1e000040008000000000000001-1)."}, wantNote: "no boot before 2c1f9b1e"},
		{name: "a real failure is an error, not a note", persistent: true, err: exitErr{1, "Failed to open journal: Permission denied"}, wantErr: true},
		{name: "a boot with no shutdown", persistent: true, wantNote: "recorded no shutdown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &journalHost{err: tt.err}
			s, note, err := lastShutdown(context.Background(), h, tt.persistent, tt.boot, tt.before)
			if tt.wantErr {
				if err == nil || !errors.As(err, new(exitErr)) {
					t.Fatalf("err = %v, want the journal error", err)
				}
				return
			}
			if err != nil || s != nil || !strings.Contains(note, tt.wantNote) {
				t.Fatalf("= %v, %q, %v; want no shutdown and a note with %q", s, note, err, tt.wantNote)
			}
			ref := strings.ReplaceAll(tt.boot, "-", "")
			if tt.before {
				ref += "-1"
			}
			if tt.boot != "" && h.args[len(h.args)-1] != ref {
				t.Errorf("the script was not given the boot: %q", h.args)
			}
		})
	}
}

// The reboot's timeline from a captured journal (the buggy build's reboot:
// logind's request at .439244, sshd's "Stopped" at .451162, the boot's
// last record at 02.587050).
func TestRebootTimelineFromTheJournal(t *testing.T) {
	b, err := os.ReadFile("../journal/testdata/buggy-reboot.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	s, err := journal.ParseShutdown(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		shutdown *journal.Shutdown
		noticed  time.Duration
		sshd     time.Duration
		down     time.Duration
		msg      string
	}{
		{"journal and login", s, 31 * time.Millisecond, 11918 * time.Microsecond, 5147806 * time.Microsecond,
			"reboot, host's journal: sshd stopped 12ms after the reboot was asked, the old boot's journal ended 5.15s after it was asked; fleetfix logged in 31ms after the new boot's sshd started"},
		{"no sshd record", &journal.Shutdown{Asked: s.Asked, End: s.End}, 0, 0, 5147806 * time.Microsecond,
			"reboot, host's journal: the old boot's journal ended 5.15s after it was asked"},
		{"no journal", nil, 31 * time.Millisecond, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := &RebootTiming{Down: 4050 * time.Millisecond, Noticed: tt.noticed}
			rt.fromJournal(tt.shutdown)
			if rt.SSHDStopped != tt.sshd || rt.Shutdown != tt.down || rt.Down != 4050*time.Millisecond {
				t.Errorf("sshd stopped %v, shutdown %v, controller down %v; want %v, %v, 4.05s", rt.SSHDStopped, rt.Shutdown, rt.Down, tt.sshd, tt.down)
			}
			if got := rt.describeJournal(); got != tt.msg {
				t.Errorf("message\n got %q\nwant %q", got, tt.msg)
			}
		})
	}
}

func TestAttachRestartToTimings(t *testing.T) {
	two, zero := 2, 0
	killed := &journal.UnitStop{Unit: "a.service", Duration: 1020 * time.Millisecond, Killed: true, KilledOnRequest: true}
	clean := &journal.UnitStop{Unit: "a.service", Duration: 12 * time.Millisecond, Result: "clean"}
	prev := &journal.UnitStop{Unit: "a.service", Duration: 11 * time.Millisecond, Result: "clean"}
	boot := "5f1c2d3e000040008000000000000001"
	// The manifest keeps the boot as /proc spells it, the journal without
	// dashes.
	run := &Manifest{RunID: "20261201_101500", BootID: "5f1c2d3e-0000-4000-8000-000000000001", Changes: []Change{{Unit: "a.service", Done: true}}}
	tests := []struct {
		name   string
		rs     restartState
		newest *Manifest
		want   string
	}{
		{"the restart's stop is the before, the previous boot's flagged",
			restartState{ran: true, old: map[string]oldBuild{"a.service": {stop: killed, inFlight: &two}}, atReboot: map[string]int{"a.service": 0}}, run,
			"a.service: stop 1.02s, SIGKILLed by fleetfix, 2 in flight -> 0.012s, clean, 0 in flight; previous shutdown 0.011s, clean (boot 5f1c2d3e; run 20261201_101500 changed its files)"},
		{"a run of another boot does not flag it",
			restartState{ran: true, old: map[string]oldBuild{"a.service": {stop: killed, inFlight: &zero}}}, &Manifest{RunID: "x", BootID: "other", Changes: run.Changes},
			"a.service: stop 1.02s, SIGKILLed by fleetfix, 0 in flight -> 0.012s, clean; previous shutdown 0.011s, clean (boot 5f1c2d3e)"},
		{"a reboot without a restart keeps the shutdown before",
			restartState{atReboot: map[string]int{"a.service": 2}}, run,
			"a.service: stop 0.011s, clean -> 0.012s, clean, 2 in flight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ut := UnitTiming{Unit: "a.service", After: clean}
			if tt.rs.ran {
				ut.Previous, ut.PreviousBoot = prev, boot
			} else {
				ut.Before = prev
			}
			got := describeTimings(tt.rs.attach([]UnitTiming{ut}, tt.newest))
			if got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
