package journal

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Restart is how units stopped at a restart: the stop half of each unit's
// restart job, read from the journal of the boot it ran in.
type Restart struct {
	Units []UnitStop `json:"units"` // in unit name order
	// Skipped counts input lines that were not journal records.
	Skipped int `json:"skipped_lines,omitempty"`
}

// Unit returns how the named unit stopped at the restart; false when the
// input holds no restart job of it (it was not running, so the restart
// only started it).
func (r *Restart) Unit(name string) (UnitStop, bool) { return unitIn(r.Units, name) }

// ErrNoRestart is the error of an input that holds no restart job's stop.
var ErrNoRestart = errors.New("no restart recorded")

// ParseRestart reads journalctl -o json lines of PID 1's records about some
// units in one boot (fleet's restart-journal script, from just before a
// restart) and returns how each unit's process stopped at its first
// restart job there.
//
// A restart job logs its stop half as "Stopping ..." with JOB_TYPE=stop
// and its end as "Stopped ..." with JOB_TYPE=restart, both with the job's
// JOB_ID (restart-then-reboot, systemd 252): the pair is the stop, as at a
// shutdown. The kill and the unit's result are read as for a shutdown's
// stop, from the records of the same invocation inside that window; a kill
// asked for (`systemctl kill --signal=SIGKILL`, as fleetfix does past a
// unit's old_stop_timeout) is logged "Sent signal SIGKILL to main process
// N (...) on client request" and sets Killed and KilledOnRequest. A stop
// job that ended as a plain stop (a shutdown's) is not a restart's, nor one
// still running. The order of the lines does not matter.
func ParseRestart(r io.Reader) (*Restart, error) {
	recs, skipped, err := readJournal(r)
	if err != nil {
		return nil, err
	}
	recs = sortRecords(recs)
	if _, err := bootOf(recs); err != nil {
		return nil, err
	}
	jobs := map[[2]string]*stopJob{}
	var order, pid1 []*record
	for _, rec := range recs {
		if rec.pid != "" && rec.pid != "1" {
			continue
		}
		pid1 = append(pid1, rec)
		if rec.jobID == "" || rec.unit == "" {
			continue
		}
		key := [2]string{rec.jobID, rec.unit}
		switch {
		case rec.messageID == msgJobStart && rec.jobType == "stop":
			if jobs[key] == nil {
				jobs[key] = &stopJob{unit: rec.unit, jobID: rec.jobID, start: rec}
				order = append(order, rec)
			}
		case rec.messageID == msgJobDone && rec.jobType == "restart":
			if j := jobs[key]; j != nil && j.done == nil {
				j.done = rec
			}
		}
	}
	res := &Restart{Skipped: skipped, Units: []UnitStop{}}
	seen := map[string]bool{}
	for _, start := range order {
		j := jobs[[2]string{start.jobID, start.unit}]
		if j.done == nil || seen[j.unit] {
			continue
		}
		seen[j.unit] = true
		res.Units = append(res.Units, unitStop(j, j.done.ts, pid1))
	}
	if len(res.Units) == 0 {
		return nil, fmt.Errorf("%w (%d records, %d malformed lines skipped)", ErrNoRestart, len(recs), skipped)
	}
	slices.SortFunc(res.Units, func(a, b UnitStop) int { return cmp.Compare(a.Unit, b.Unit) })
	return res, nil
}

// killedOnRequest: PID 1's record of a kill that `systemctl kill` asked for.
func killedOnRequest(message string) bool {
	return strings.Contains(message, "Sent signal SIGKILL to ") && strings.Contains(message, "on client request")
}
