package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/journal"
)

// restartState is what a host's restart knows and measured: each unit's
// stop timeout after the reload, and how the old build stopped.
type restartState struct {
	ran bool // the run restarted the units
	// stopTimeout is each unit's TimeoutStopUSec after the reload, the
	// bound of an old build's stop that has no old_stop_timeout.
	stopTimeout map[string]time.Duration
	old         map[string]oldBuild
	// atReboot counts each unit's connections just before the reboot; nil
	// when they were not counted.
	atReboot map[string]int
}

// oldBuild is how a unit's old build stopped at the restart.
type oldBuild struct {
	stop     *journal.UnitStop
	note     string // why stop is nil
	inFlight *int
}

// restart restarts the units and waits until each is active and healthy:
// all of them in one systemd transaction (rollout.restart: together), or
// one after the other, each healthy before the next (sequential). The
// host's result keeps how long that took.
func (hr *hostRun) restart(ctx context.Context) (string, error) {
	start := time.Now()
	groups := [][]inventory.Service{hr.give.services}
	if hr.r.opts.Inventory.Rollout.Restart == inventory.RestartSequential {
		groups = nil
		for _, svc := range hr.give.services {
			groups = append(groups, []inventory.Service{svc})
		}
	}
	hr.rst.ran = true
	var msgs []string
	for _, g := range groups {
		m, err := hr.restartUnits(ctx, g)
		if err != nil {
			return "", err
		}
		msgs = append(msgs, m...)
	}
	hr.res.RestartTime = time.Since(start)
	return strings.Join(msgs, "; "), nil
}

// restartUnits restarts svcs together (scriptRestart), health-checks each
// and reads from the journal how each old build stopped. Its deadline is
// the longest old stop bound plus the longest health timeout plus slack,
// however short the step's own timeout: the old build's known hang is
// part of a restart, and a failure past it must be the health check's, not
// a deadline's.
func (hr *hostRun) restartUnits(ctx context.Context, svcs []inventory.Service) ([]string, error) {
	args := []string{strconv.Itoa(len(svcs))}
	var stopWait, healthWait time.Duration
	units := make([]string, len(svcs))
	for i, svc := range svcs {
		units[i] = svc.Unit
		args = append(args, svc.Unit, strconv.FormatInt(svc.Restart.OldStopTimeout.Milliseconds()/10, 10))
		stopWait = max(stopWait, hr.stopBound(svc))
		healthWait = max(healthWait, healthTimeout(svc))
	}
	t0 := time.Now()
	deadline := stopWait + healthWait + healthSlack
	ctx, cancel := extendDeadline(hr.ctx, ctx, deadline)
	defer cancel()
	out, err := runScript(ctx, hr.h, scriptRestart, args...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("restart %s: the restart jobs had not finished after %s (old stop bound %s, health timeout %s, slack %s)",
				strings.Join(units, " "), duration.Format(time.Since(t0)), stopWait, healthWait, healthSlack)
		}
		return nil, fmt.Errorf("restart %s: %w", strings.Join(units, " "), err)
	}
	rr, err := parseRestartOut(out, len(svcs))
	if err != nil {
		return nil, fmt.Errorf("restart %s: %w", strings.Join(units, " "), err)
	}
	var msgs []string
	for i, svc := range svcs {
		if err := health(ctx, hr.h, svc, "started", 0); err != nil {
			return nil, err
		}
		msg := fmt.Sprintf("%s active and healthy in %s", svc.Unit, duration.Format(time.Since(t0)))
		if rr.killed[i] {
			msg += fmt.Sprintf(", old build SIGKILLed by fleetfix after %s", svc.Restart.OldStopTimeout)
		}
		msgs = append(msgs, msg)
	}
	hr.readOldStops(ctx, svcs, rr)
	return msgs, nil
}

// extendDeadline derives from host (the host's whole run) a context ending
// d from now, or when step ends if that is later: the restart's own bound
// may exceed rollout.timeouts.restart, never shorten it.
func extendDeadline(host, step context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	end := time.Now().Add(d)
	if sd, ok := step.Deadline(); ok && sd.After(end) {
		end = sd
	}
	return context.WithDeadline(host, end)
}

// stopBound is how long svc's old build may take to stop at the restart:
// its old_stop_timeout, else the unit's TimeoutStopUSec after the reload
// (or at preflight), else systemd's default.
func (hr *hostRun) stopBound(svc inventory.Service) time.Duration {
	if d := svc.Restart.OldStopTimeout; d > 0 {
		return d
	}
	if d, ok := hr.rst.stopTimeout[svc.Unit]; ok {
		return d
	}
	if hr.facts != nil {
		for _, u := range hr.facts.Units {
			if d, err := parseSystemdDuration(u.Props["TimeoutStopUSec"]); u.Unit == svc.Unit && err == nil && d > 0 {
				return d
			}
		}
	}
	return 90 * time.Second
}

// noteStopTimeout keeps unit's TimeoutStopUSec as the reload left it; an
// infinite or unreadable one is left to stopBound's fallbacks.
func (rs *restartState) noteStopTimeout(unit string, props map[string]string) {
	d, err := parseSystemdDuration(props["TimeoutStopUSec"])
	if err != nil || d <= 0 {
		return
	}
	if rs.stopTimeout == nil {
		rs.stopTimeout = map[string]time.Duration{}
	}
	rs.stopTimeout[unit] = d
}

// restartOut is scriptRestart's answer.
type restartOut struct {
	since    string // the host's clock before the restart, for journalctl --since
	inFlight []*int
	killed   []bool
}

func parseRestartOut(out []byte, n int) (*restartOut, error) {
	rr := &restartOut{inFlight: make([]*int, n), killed: make([]bool, n)}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "since" {
			rr.since = f[1]
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("unexpected line %q", strings.TrimSpace(line))
		}
		i, err1 := strconv.Atoi(f[1])
		v, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || i < 0 || i >= n {
			return nil, fmt.Errorf("unexpected line %q", strings.TrimSpace(line))
		}
		switch f[0] {
		case "inflight":
			rr.inFlight[i] = &v
		case "killed":
			rr.killed[i] = true
		case "stopped":
		default:
			return nil, fmt.Errorf("unexpected line %q", strings.TrimSpace(line))
		}
	}
	return rr, nil
}

// readOldStops reads from the current boot's journal how each old build
// stopped at the restart. A failed read leaves a note, not a failed host:
// the restart itself went well.
func (hr *hostRun) readOldStops(ctx context.Context, svcs []inventory.Service, rr *restartOut) {
	if hr.rst.old == nil {
		hr.rst.old = map[string]oldBuild{}
	}
	var rs *journal.Restart
	note := ""
	units := make([]string, len(svcs))
	for i, svc := range svcs {
		units[i] = svc.Unit
	}
	if rr.since == "" {
		note = "the restart did not say when it began"
	} else {
		out, err := runScript(ctx, hr.h, scriptRestartJournal, append([]string{"@" + rr.since}, units...)...)
		if err == nil {
			rs, err = journal.ParseRestart(bytes.NewReader(out))
		}
		switch {
		case errors.Is(err, journal.ErrNoRestart):
			note = "no stop at the restart in the journal (the unit was not running)"
		case err != nil:
			note = "read the restart's journal: " + err.Error()
		}
	}
	for i, u := range units {
		ob := oldBuild{note: note, inFlight: rr.inFlight[i]}
		if rs != nil {
			if s, ok := rs.Unit(u); ok {
				ob.stop = &s
			} else {
				ob.note = "no stop at the restart in the journal (the unit was not running)"
			}
		}
		hr.rst.old[u] = ob
	}
}

// countInFlight counts each unit's connections just before the reboot; a
// count that fails is reported and left out, never a failed host.
func (hr *hostRun) countInFlight(ctx context.Context) {
	out, err := runScript(ctx, hr.h, scriptInFlight, hr.give.units()...)
	if err != nil {
		hr.r.info(hr.t.Name, StepReboot, true, "count the connections in flight: "+err.Error())
		return
	}
	rr, err := parseRestartOut(out, len(hr.give.services))
	if err != nil {
		hr.r.info(hr.t.Name, StepReboot, true, "count the connections in flight: "+err.Error())
		return
	}
	for i, svc := range hr.give.services {
		if n := rr.inFlight[i]; n != nil {
			if hr.rst.atReboot == nil {
				hr.rst.atReboot = map[string]int{}
			}
			hr.rst.atReboot[svc.Unit] = *n
		}
	}
}

// attach adds to the reboot's timings what the restart measured: the old
// build's stop at the restart becomes the before, the previous shutdown
// its second figure, flagged when the newest earlier run (newest) changed
// the unit's files during that boot; and the counts of connections in
// flight.
func (rs *restartState) attach(ts []UnitTiming, newest *Manifest) []UnitTiming {
	for i := range ts {
		ut := &ts[i]
		if n, ok := rs.atReboot[ut.Unit]; ok {
			ut.InFlight = &n
		}
		if !rs.ran {
			continue
		}
		if ob, ok := rs.old[ut.Unit]; ok {
			ut.Before, ut.BeforeNote, ut.BeforeInFlight = ob.stop, ob.note, ob.inFlight
		} else {
			ut.BeforeNote = "the restart did not measure it"
		}
		if newest != nil && ut.PreviousBoot != "" && sameBoot(newest.BootID, ut.PreviousBoot) && changedUnit(newest, ut.Unit) {
			ut.PreviousChangedBy = newest.RunID
		}
	}
	return ts
}

// sameBoot compares boot ids as /proc (with dashes) and the journal
// (without) spell them.
func sameBoot(a, b string) bool {
	return strings.ReplaceAll(a, "-", "") == strings.ReplaceAll(b, "-", "")
}

// changedUnit reports whether run m replaced any of unit's files.
func changedUnit(m *Manifest, unit string) bool {
	for _, c := range m.Changes {
		if c.Unit == unit && c.Done {
			return true
		}
	}
	return false
}

// planRestart tells a run that stops before the restart (a plan) how the
// restart would treat each old build: its bound, or, when the journal shows
// the running build SIGKILLed at its last stop and no bound is set, a
// suggestion of one. It costs one journal read, in plans only.
func (hr *hostRun) planRestart(ctx context.Context) {
	if slices.Contains(Steps(hr.r.opts), StepRestart) {
		return
	}
	var last *journal.Shutdown
	read := false
	for _, svc := range hr.give.services {
		if d := svc.Restart.OldStopTimeout; d > 0 {
			hr.r.info(hr.t.Name, StepPreflight, false, fmt.Sprintf("%s: at the restart the old build is SIGKILLed if still stopping after %s (restart.old_stop_timeout)", svc.Unit, d))
			continue
		}
		if !read {
			last, _, _ = lastShutdown(ctx, hr.h, hr.facts.PersistentJournal, "", false)
			read = true
		}
		if last == nil {
			continue
		}
		if u, ok := last.Unit(svc.Unit); ok && u.Killed {
			hr.r.info(hr.t.Name, StepPreflight, true, fmt.Sprintf("%s: the running build was SIGKILLed at its last stop (%s); the restart will wait up to %s for it: set services[].restart.old_stop_timeout (e.g. 1s) to bound it",
				svc.Unit, DescribeStop(&u, ""), plannedStopTimeout(svc, hr.facts)))
		}
	}
}

// plannedStopTimeout is the TimeoutStopSec svc's stop will have after the
// drop-in: the drop-in's own, else the unit's now, else systemd's default.
func plannedStopTimeout(svc inventory.Service, f *Facts) string {
	for _, s := range svc.DropIn.Settings {
		if s.Key == "TimeoutStopSec" {
			return s.Value
		}
	}
	for _, u := range f.Units {
		if v := u.Props["TimeoutStopUSec"]; u.Unit == svc.Unit && v != "" {
			return v
		}
	}
	return "90s"
}
