// Package journal reads how each unit stopped at a shutdown, or at a
// restart, out of one boot's systemd journal, as journalctl -o json prints
// it: ParseShutdown returns a Shutdown, ParseRestart a Restart.
//
// systemd reports no shutdown timings itself (systemd-analyze covers boot
// only), so a unit's stop time is the gap between the "Stopping ..." and
// "Stopped ..." records of its stop job, paired per unit by JOB_ID; the
// kill after a stop timeout and the unit's result come from PID 1's records
// of the same invocation. ParseShutdown's input is what the remote query
// prints (fleet.ShutdownQuery), ParseRestart's what fleet's restart-journal
// script prints; the parsers are pure, read no host and do not depend on
// the order of the lines.
//
// The types' JSON tags are the shape of the goldens (testdata/*.json) the
// tests compare the parses with: a field added to a type appears there
// with no other edit, so no golden misses it. What fleetfix writes for
// others to read is jsonl's types, not these.
package journal

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// UnitStop is how one unit stopped at a shutdown.
type UnitStop struct {
	Unit     string        `json:"unit"`
	Start    time.Time     `json:"start"` // the "Stopping ..." job start record
	End      time.Time     `json:"end"`   // the "Stopped ..." job done record
	Duration time.Duration `json:"duration_ns"`
	// Killed: SIGKILLed after the stop timeout ("State 'stop-sigterm' timed
	// out. Killing." or the like for other states and unit types).
	Killed bool `json:"killed"`
	// Result is "clean" (Deactivated successfully), "timeout", "failed:<UNIT_RESULT>"
	// (e.g. failed:exit-code), or "unknown" (no result record in the window).
	Result string `json:"result"`
	// KilledOnRequest: the SIGKILL was asked for (systemctl kill, as
	// fleetfix does past a unit's old_stop_timeout at a restart), not sent
	// after the stop timeout; Killed is set too.
	KilledOnRequest bool `json:"killed_on_request,omitempty"`
	// Unfinished: the journal ends before the job's "Stopped" record (a power
	// cut or a crash during the stop); End is then the boot's last record and
	// Duration a lower bound.
	Unfinished bool `json:"unfinished,omitempty"`
}

// Shutdown is the last shutdown recorded in one boot's journal.
type Shutdown struct {
	BootID string    `json:"boot_id"`
	Start  time.Time `json:"start"` // first stop job of the shutdown
	End    time.Time `json:"end"`   // last record of that boot
	// Asked is when the shutdown was asked for: logind's "System is
	// rebooting." (or PID 1's "Activating special unit"), else Start.
	Asked time.Time `json:"asked"`
	// SSHDStopped is the "Stopped" record of sshd's stop job in the
	// shutdown (ssh.service or sshd.service); zero when it has none.
	SSHDStopped time.Time     `json:"sshd_stopped,omitzero"`
	Duration    time.Duration `json:"duration_ns"`
	Units       []UnitStop    `json:"units"` // slowest first; ties by unit name
	// Skipped counts input lines that were not journal records (not JSON,
	// or without a usable timestamp): the parse does not fail on them, but a
	// caller can tell the stream was damaged.
	Skipped int `json:"skipped_lines,omitempty"`
}

// Unit returns how the named unit stopped at the shutdown; false when it was
// not stopped by it (not running then, or stopped earlier by hand).
func (s *Shutdown) Unit(name string) (UnitStop, bool) { return unitIn(s.Units, name) }

func unitIn(units []UnitStop, name string) (UnitStop, bool) {
	for _, u := range units {
		if u.Unit == name {
			return u, true
		}
	}
	return UnitStop{}, false
}

// Slowest returns (a copy of) the n slowest stops, fewer when the shutdown
// stopped fewer units.
func (s *Shutdown) Slowest(n int) []UnitStop {
	n = max(0, min(n, len(s.Units)))
	return slices.Clone(s.Units[:n])
}

// ErrNoShutdown is the error of a boot whose journal holds no shutdown (it
// crashed, the journal was cut, or the boot is still running).
var ErrNoShutdown = errors.New("no shutdown recorded in that boot")

// Journal MESSAGE_IDs (systemd's catalog, checked against systemd 252's
// records on the lab hosts).
const (
	msgJobStart        = "de5b426a63be47a7b6ac3eaac82e2f6f" // "Stopping ..." (job_emit_start_message)
	msgJobDone         = "9d1aaa27d60140bd96365438aad20286" // "Stopped ..." (job_emit_done_message), JOB_TYPE=stop
	msgUnitFailed      = "d9b373ed55a64feb8242e02dbe79a49c" // "Failed with result 'X'." UNIT_RESULT=X
	msgUnitDeactivated = "7ad2d189f7e94e70a38c781354912448" // "Deactivated successfully."
	// msgLogindShutdown is systemd-logind's "System is rebooting." (or
	// "powering down", "halting", ...), SHUTDOWN=reboot, logged by
	// bus_manager_log_shutdown just before logind asks PID 1 to start the
	// target. Not to be mistaken for 9e7066279dc8403da79ce4b1a69064b2, the
	// wall message ("The system will reboot now!", CODE_FUNC=warn_wall),
	// which logind also sends minutes ahead for a scheduled shutdown.
	msgLogindShutdown = "98268866d1d54a499c4e98921d93bc40"
)

// isShutdownTarget: starting it shuts the system down (ctrl-alt-del.target
// is an alias of reboot.target; exit.target is a container's poweroff).
func isShutdownTarget(unit string) bool {
	switch unit {
	case "reboot.target", "poweroff.target", "halt.target", "kexec.target", "exit.target", "ctrl-alt-del.target":
		return true
	}
	return false
}

// isShutdownJobUnit: the start jobs of these units open every shutdown's
// transaction: the target asked for, then the service that does the final
// reboot (or halt...), then, mixed with the stop jobs, shutdown.target,
// which every unit with default dependencies conflicts with. Their records
// come late in the shutdown, and not all of them every time: a halt by
// nspawn logged "Starting systemd-halt.service" (job 88) and "Reached
// target shutdown.target" (89), never "Reached target halt.target"; its
// stops were jobs 90 to 187. After `systemctl start reboot.target`:
// reboot.target 182, systemd-reboot.service 183, stops 188 to 283,
// shutdown.target 192. The lowest of these ids bounds the stop jobs.
func isShutdownJobUnit(unit string) bool {
	switch unit {
	case "shutdown.target", "systemd-reboot.service", "systemd-poweroff.service", "systemd-halt.service", "systemd-kexec.service", "systemd-exit.service":
		return true
	}
	return isShutdownTarget(unit)
}

// isSSHD: the unit is sshd's, as Debian (ssh) or others (sshd) name it.
func isSSHD(unit string) bool { return unit == "ssh.service" || unit == "sshd.service" }

// stopJob is one stop job of PID 1: its "Stopping" record (nil when the stop
// finished at once: systemd emits the start message only for a job that
// does not complete synchronously, so targets, timers and exited oneshots
// have only "Stopped") and its "Stopped" record (nil when the journal ends
// first).
type stopJob struct {
	unit, jobID string
	start, done *record
}

func (j *stopJob) first() *record {
	if j.start != nil {
		return j.start
	}
	return j.done
}

// ParseShutdown reads journalctl -o json lines (one JSON object per line) of
// ONE boot and returns its last shutdown.
//
// Which stops are the shutdown's. No single record marks the start of every
// shutdown; the lab hosts' records (systemd 252, testdata) show two
// kinds of marks:
//
//   - When it was asked for. systemd-logind's "System is rebooting."
//     (MESSAGE_ID 98268866d1d54a499c4e98921d93bc40, SHUTDOWN=reboot) when
//     `systemctl reboot`, `reboot` or `shutdown` goes through logind, the
//     usual way: 5 ms before PID 1's first stop job (buggy-reboot: mark
//     21:57:57.439244, first stop job .444215). PID 1's "Activating special
//     unit reboot.target..." (no UNIT, no MESSAGE_ID; CODE_FUNC=
//     manager_start_special) when a signal asked for it: SIGRTMIN+5
//     (sigrtmin5-no-logind), SIGRTMIN+3 as nspawn sends to halt
//     (halt-by-nspawn), SIGINT for ctrl-alt-del.
//   - Its transaction's job numbers. systemd numbers jobs in order, and a
//     shutdown enqueues the target's start job first, then the service
//     that reboots, then shutdown.target and the stop jobs of every unit
//     that conflicts with it (buggy-reboot: reboot.target 182,
//     systemd-reboot.service 183, shutdown.target 184, stops 185 to 281;
//     stopped-by-hand: the stop by hand 14 s before is job 132, the
//     shutdown's stops 240 to 336). Those start jobs only leave records at
//     the end ("Reached target shutdown.target"...), not all of them
//     (halt-by-nspawn has none for halt.target), but they are there
//     whatever asked for the shutdown, so also after `systemctl start
//     reboot.target`, which leaves no mark of the first kind
//     (start-reboot-target). See isShutdownJobUnit.
//
// The shutdown begins at the last mark of the first kind, or else at the
// first record of a stop job numbered above the lowest of those start jobs.
// A stop job is the shutdown's when it is numbered above them, or when its
// "Stopped" record comes after the shutdown began (a job the journal ends
// before it is done counts only if it began after: a stop job cancelled
// earlier leaves no "Stopped" record either). So a unit stopped by hand long
// before (and not started again) is left out, while a stop by hand still
// running when the shutdown began is kept, since the shutdown waited for it
// (stop-during-reboot: `systemctl stop --no-block` 1.1 s before the reboot;
// the shutdown merged into that job, which kept its own lower JOB_ID, 133,
// and SIGKILLed the unit 4 s after logind's mark). A unit stopped twice
// reports the later stop. Restart jobs are not stops: a restart's
// "Stopping" record says JOB_TYPE=stop, only its "Stopped" record says
// JOB_TYPE=restart (restart-then-reboot), so a job is a restart when any of
// its records says so. Shutdown.Start is the first record of the
// shutdown's stop jobs (with or without a "Stopping" record); End is the
// boot's last record, whoever wrote it ("Journal stopped" normally).
//
// Errors: ErrNoShutdown (wrapped) when no shutdown mark is found or the input
// has no valid records; an error when records come from several boots.
// Malformed lines are skipped and counted in Shutdown.Skipped.
func ParseShutdown(r io.Reader) (*Shutdown, error) {
	recs, skipped, err := readJournal(r)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: no journal records in the input (%d malformed lines skipped)", ErrNoShutdown, skipped)
	}
	recs = sortRecords(recs)
	s := &Shutdown{Skipped: skipped, Units: []UnitStop{}, End: recs[len(recs)-1].ts}
	if s.BootID, err = bootOf(recs); err != nil {
		return nil, err
	}
	b := readBoot(recs)
	if b.mark == nil && b.anchorRec == nil {
		return nil, fmt.Errorf("%w (%d records, %d malformed lines skipped)", ErrNoShutdown, len(recs), skipped)
	}
	last := map[string]*stopJob{} // unit → the shutdown's stop of it
	begin := b.begin()
	s.Start = begin
	startSet := false
	for _, j := range b.jobOrder {
		if b.isRestart(j) || !b.member(j, begin) {
			continue
		}
		if t := j.first().ts; !startSet || t.Before(s.Start) {
			s.Start, startSet = t, true
		}
		if isSSHD(j.unit) && j.done != nil && j.done.ts.After(s.SSHDStopped) {
			s.SSHDStopped = j.done.ts
		}
		if j.start == nil {
			continue
		}
		if prev := last[j.unit]; prev == nil || laterJob(j, prev) {
			last[j.unit] = j
		}
	}
	s.Duration = s.End.Sub(s.Start)
	s.Asked = s.Start
	if b.mark != nil {
		s.Asked = b.mark.ts
	}

	for _, j := range last {
		s.Units = append(s.Units, unitStop(j, s.End, b.pid1Records))
	}
	slices.SortFunc(s.Units, func(a, b UnitStop) int {
		return cmp.Or(cmp.Compare(b.Duration, a.Duration), cmp.Compare(a.Unit, b.Unit))
	})
	return s, nil
}

// sortRecords puts recs in a total order on content, so that the result
// does not depend on the order of the lines (journalctl interleaves
// processes by arrival), and drops repeats.
func sortRecords(recs []*record) []*record {
	slices.SortFunc(recs, func(a, b *record) int {
		return cmp.Or(a.ts.Compare(b.ts), cmp.Compare(a.cursor, b.cursor), cmp.Compare(a.raw, b.raw))
	})
	// A record printed twice (the query's last record is often also one of
	// PID 1's) has the same __CURSOR; drop repeats after sorting, so the one
	// kept does not depend on the line order either.
	seen := map[string]bool{}
	return slices.DeleteFunc(recs, func(r *record) bool {
		if r.cursor == "" {
			return false
		}
		dup := seen[r.cursor]
		seen[r.cursor] = true
		return dup
	})
}

// bootOf returns the boot id the records share ("" when none has one), or
// an error when they come from several boots.
func bootOf(recs []*record) (string, error) {
	var id string
	for _, rec := range recs {
		if rec.bootID == "" {
			continue
		}
		if id == "" {
			id = strings.Clone(rec.bootID)
		} else if id != rec.bootID {
			return "", fmt.Errorf("journal records from more than one boot (%s, %s)", id, rec.bootID)
		}
	}
	return id, nil
}

// boot is what one boot's sorted records say about its shutdown.
type boot struct {
	mark        *record // when the shutdown was asked for
	anchor      uint64  // the lowest JOB_ID of the shutdown's transaction
	anchorRec   *record
	jobs        map[[2]string]*stopJob // by JOB_ID and UNIT
	restarts    map[[2]string]bool
	jobOrder    []*stopJob
	pid1Records []*record
}

// readBoot gathers the shutdown marks, the stop jobs and PID 1's records
// from sorted records.
func readBoot(recs []*record) *boot {
	b := &boot{jobs: map[[2]string]*stopJob{}, restarts: map[[2]string]bool{}}
	for _, rec := range recs {
		if rec.messageID == msgLogindShutdown && (rec.comm == "" || rec.comm == "systemd-logind") {
			b.mark = rec // the last one: recs are sorted
			continue
		}
		if rec.pid != "" && rec.pid != "1" {
			// A user manager (systemd --user) logs the same job records,
			// numbered on its own.
			continue
		}
		b.pid1Records = append(b.pid1Records, rec)
		switch {
		case isSpecialShutdown(rec):
			b.mark = rec
		case rec.jobType == "start" && isShutdownJobUnit(rec.unit):
			if n, ok := rec.jobNum(); ok && (b.anchorRec == nil || n < b.anchor) {
				b.anchor, b.anchorRec = n, rec
			}
		case rec.jobType == "restart" && rec.jobID != "":
			// A restart job logs its start as "Stopping ..." with
			// JOB_TYPE=stop (systemd runs its first half as a stop) and
			// only its done record with JOB_TYPE=restart: only the latter
			// tells it from a stop (seen on the lab hosts, systemd 252).
			b.restarts[[2]string{rec.jobID, rec.unit}] = true
		case rec.jobType == "stop" && rec.jobID != "" && rec.unit != "" && (rec.messageID == msgJobStart || rec.messageID == msgJobDone):
			b.addStop(rec)
		}
	}
	return b
}

// addStop files a stop job's "Stopping" or "Stopped" record.
func (b *boot) addStop(rec *record) {
	key := [2]string{rec.jobID, rec.unit}
	j := b.jobs[key]
	if j == nil {
		j = &stopJob{unit: rec.unit, jobID: rec.jobID}
		b.jobs[key] = j
		b.jobOrder = append(b.jobOrder, j)
	}
	// Sorted records: keep the first start and the last done.
	if rec.messageID == msgJobStart && j.start == nil {
		j.start = rec
	} else if rec.messageID == msgJobDone {
		j.done = rec
	}
}

func (b *boot) isRestart(j *stopJob) bool { return b.restarts[[2]string{j.jobID, j.unit}] }

// inTransaction reports whether stop job j is numbered above the
// shutdown's start jobs.
func (b *boot) inTransaction(j *stopJob) bool {
	if b.anchorRec == nil {
		return false
	}
	n, ok := j.first().jobNum()
	return ok && n > b.anchor
}

// begin is when the shutdown began: its last mark, or else the first
// record of a stop job of its transaction.
func (b *boot) begin() time.Time {
	if b.mark != nil {
		return b.mark.ts
	}
	begin := b.anchorRec.ts
	for _, j := range b.jobOrder {
		if b.inTransaction(j) && !b.isRestart(j) && j.first().ts.Before(begin) {
			begin = j.first().ts
		}
	}
	return begin
}

// member reports whether stop job j is the shutdown's, which began at
// begin.
func (b *boot) member(j *stopJob, begin time.Time) bool {
	if b.inTransaction(j) {
		return true
	}
	if j.done != nil {
		return !j.done.ts.Before(begin)
	}
	return !j.start.ts.Before(begin)
}

// isSpecialShutdown: PID 1's "Activating special unit halt.target...",
// logged when a signal asks for a shutdown (SIGRTMIN+3 to +6 as nspawn
// sends, SIGINT for ctrl-alt-del); it has no UNIT nor MESSAGE_ID.
func isSpecialShutdown(r *record) bool {
	if r.codeFunc != "" && r.codeFunc != "manager_start_special" {
		return false
	}
	unit, ok := strings.CutPrefix(r.message, "Activating special unit ")
	return ok && isShutdownTarget(strings.TrimSuffix(unit, "..."))
}

// laterJob reports whether stop job a began after b (by time, then by
// JOB_ID).
func laterJob(a, b *stopJob) bool {
	if c := a.start.ts.Compare(b.start.ts); c != 0 {
		return c > 0
	}
	an, _ := a.start.jobNum()
	bn, _ := b.start.jobNum()
	if an != bn {
		return an > bn
	}
	return a.jobID > b.jobID
}

// unitStop reads how job j's unit stopped from PID 1's records about the
// unit within the job's window, of the same invocation (a restart earlier,
// with its own kill and result records, has another INVOCATION_ID).
func unitStop(j *stopJob, bootEnd time.Time, recs []*record) UnitStop {
	u := UnitStop{Unit: strings.Clone(j.unit), Start: j.start.ts, End: bootEnd, Result: "unknown"}
	if j.done != nil {
		u.End = j.done.ts
	} else {
		u.Unfinished = true
	}
	u.Duration = u.End.Sub(u.Start)
	inv := j.start.invocation
	if inv == "" && j.done != nil {
		inv = j.done.invocation
	}
	failed, clean := "", false
	for _, r := range recs {
		if r.unit != j.unit || r.ts.Before(u.Start) || r.ts.After(u.End) {
			continue
		}
		if inv != "" && r.invocation != "" && r.invocation != inv {
			continue
		}
		switch {
		case r.messageID == msgUnitFailed:
			res := r.unitResult
			if res == "" {
				res = resultFromMessage(r.message)
			}
			failed = res
		case r.messageID == msgUnitDeactivated:
			clean = true
		case r.messageID == "" && strings.HasSuffix(r.message, "timed out. Killing."):
			// "State 'stop-sigterm' timed out. Killing." (service), "Stopping
			// timed out. Killing." (scope), "Unmounting timed out. Killing."
			// (mount): the SIGKILL that follows a stop timeout. A "Killing
			// process N with signal SIGKILL" alone is not: KillMode=mixed
			// SIGKILLs leftovers of a clean stop at once.
			u.Killed = true
		case killedOnRequest(r.message):
			u.Killed, u.KilledOnRequest = true, true
		}
	}
	switch {
	case failed == "timeout":
		u.Result = "timeout"
	case failed != "":
		u.Result = "failed:" + failed
	case clean:
		u.Result = "clean"
	}
	return u
}

// resultFromMessage takes X out of "unit: Failed with result 'X'.", for a
// record printed without UNIT_RESULT.
func resultFromMessage(m string) string {
	_, rest, ok := strings.Cut(m, "Failed with result '")
	if !ok {
		return "unknown"
	}
	res, _, ok := strings.Cut(rest, "'")
	if !ok || res == "" {
		return "unknown"
	}
	return res
}
