package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/journal"
	"github.com/fleetfix/fleetfix/remote"
)

// RebootTiming is what a cold reboot took: the host's own timeline, from
// its journal, and the controller's.
type RebootTiming struct {
	OldBootID string
	NewBootID string
	// The controller's figures, from the moment it issued the reboot. They
	// include how long the controller took to notice: Down is reboot
	// issued -> the controller saw sshd gone; 0 when the outage was too
	// short to see (the new boot id still proves the reboot).
	Down time.Duration
	// Back is reboot issued -> sshd answering with a new boot id.
	Back time.Duration
	// Active is reboot issued -> every unit active and healthy again.
	Active time.Duration

	// The host's figures, from its journal, on its own clock; 0 when the
	// journal lacks the records. SSHDStopped is the reboot asked for
	// (logind's "System is rebooting.", else the shutdown's first stop
	// job) -> sshd's "Stopped" record: the host going down, as its sshd
	// saw it.
	SSHDStopped time.Duration
	// Shutdown is the reboot asked for -> the old boot's last record.
	Shutdown time.Duration
	// Noticed is the new boot's sshd ready (its start record) -> fleetfix
	// logged in and read the new boot id: the host coming back, as far as
	// fleetfix is concerned. Negative or absent when the host's clock
	// disagrees.
	Noticed time.Duration
}

// fromJournal sets the reboot's figures that come from the old boot's
// shutdown, read from its journal.
func (t *RebootTiming) fromJournal(s *journal.Shutdown) {
	if s == nil || s.Asked.IsZero() {
		return
	}
	t.Shutdown = s.End.Sub(s.Asked)
	if !s.SSHDStopped.IsZero() {
		t.SSHDStopped = s.SSHDStopped.Sub(s.Asked)
	}
}

// describeJournal renders the host's figures for the journal step.
func (t *RebootTiming) describeJournal() string {
	if t == nil || t.Shutdown == 0 {
		return ""
	}
	s := "reboot, host's journal: "
	if t.SSHDStopped > 0 {
		s += fmt.Sprintf("sshd stopped %s after the reboot was asked, ", duration.Format(t.SSHDStopped))
	}
	s += fmt.Sprintf("the old boot's journal ended %s after it was asked", duration.Format(t.Shutdown))
	if t.Noticed > 0 {
		s += fmt.Sprintf("; fleetfix logged in %s after the new boot's sshd started", duration.Format(t.Noticed))
	}
	return s
}

// rebootWait tunes the reboot wait. A probe is a TCP connect and an SSH
// banner, not a login, so polling it often costs a shutting-down host next
// to nothing.
type rebootWait struct {
	probeInterval time.Duration
	// upProbeInterval is the poll once sshd has gone: a host that is down
	// answers a probe with a refused connection, next to nothing, and the
	// poll interval is most of the detection latency.
	upProbeInterval time.Duration
	probeTimeout    time.Duration
	// loginInterval is how long the up wait waits after a login that found
	// the old boot still running.
	loginInterval time.Duration
	// downGrace is how long one sign of a host going down (sshd not
	// answering, or the old connection gone) must last to count alone.
	downGrace time.Duration
}

// defaultRebootWait is the wait every run uses; tests scale it down.
func defaultRebootWait() rebootWait {
	return rebootWait{
		probeInterval:   100 * time.Millisecond,
		upProbeInterval: 25 * time.Millisecond,
		probeTimeout:    500 * time.Millisecond,
		loginInterval:   2 * time.Second,
		downGrace:       2 * time.Second,
	}
}

const bootIDPath = "/proc/sys/kernel/random/boot_id"

func bootID(ctx context.Context, h Host) (string, error) {
	out, err := h.Run(ctx, "cat", bootIDPath)
	if err != nil {
		return "", fmt.Errorf("read boot id: %w", err)
	}
	id := strings.TrimSpace(string(out))
	if len(id) != 36 {
		return "", fmt.Errorf("read boot id: %q", id)
	}
	return id, nil
}

// reboot cold-reboots the host and waits until it is back with a new boot
// id, reconnected (host key verified again) and its units active and healthy.
// Going down and coming back are told apart by the boot id, never by the
// connection dropping alone: a slow shutdown keeps sshd answering for a while.
// While the host goes down it is never logged in to: the probes are TCP and
// banner only, and the boot id is re-read over the connection already open.
//
// f.BootID is the boot id preflight read over the connection still open (so
// the host has not rebooted since); "" reads it now. f's systemd version and
// sshd unit pick the reboot command and sshd's start record. back, if not
// nil, is called with the old boot id as soon as the host is back with a new
// one, before the health check.
func (r *runner) reboot(ctx context.Context, h Host, f *Facts, back func(oldBoot string)) (*RebootTiming, error) {
	old := f.BootID
	if len(old) != 36 {
		var err error
		if old, err = bootID(ctx, h); err != nil {
			return nil, err
		}
	}
	t := &RebootTiming{OldBootID: old}
	lost := h.Lost()
	issued := time.Now()
	ignore := r.opts.Inventory.Rollout.RebootInhibitors == inventory.InhibitorsIgnore
	if err := issueReboot(ctx, h, rebootCommand(f.SystemdVersion, ignore)); err != nil {
		return nil, err
	}
	if err := r.waitDown(ctx, h, lost); err != nil {
		return nil, err
	}
	t.Down = time.Since(issued)
	id, uptime, err := r.waitUp(ctx, h, old)
	if err != nil {
		return nil, err
	}
	t.NewBootID, t.Back = id, time.Since(issued)
	if back != nil {
		back(old)
	}
	lost = h.Lost()
	err = r.afterBoot(ctx, h, f.SSHDUnit, t, issued, uptime)
	if err != nil && isDone(lost) {
		// The connection went down under the checks of a host that was
		// back (its bastion rebooting, a network blip): log in again and
		// check again, within what is left of the step.
		r.info(h.Name(), StepReboot, true, fmt.Sprintf("connection lost after the host was back (%v): logging in again", err))
		if _, uptime, err = r.waitUp(ctx, h, old); err == nil {
			err = r.afterBoot(ctx, h, f.SSHDUnit, t, issued, uptime)
		}
	}
	return t, err
}

// issueReboot asks systemd for the reboot. logind queues it and answers at
// once; stopping the units (this session's among them) takes longer than
// the exit status needs to come back. When it does not, the connection
// drops under the command, and the reboot was issued all the same. (A
// transient timer around it cost 10 ms more for the same outcome.)
func issueReboot(ctx context.Context, h Host, argv []string) error {
	_, err := h.Run(ctx, argv...)
	switch status := exitStatus(err); {
	case err == nil:
	case ctx.Err() != nil:
		return fmt.Errorf("issue reboot: %w", ctx.Err())
	case status != -1 && status != 255:
		return fmt.Errorf("issue reboot: %w", err)
	}
	return nil
}

// waitDown waits until the host has gone down: sshd stops answering and the
// connection open since before the reboot has ended (the old boot killed
// its session). Both, because under load a probe can time out on a host
// that is still up, and a login then would only find the old boot. The
// connection's end (lost) is watched passively: no request reaches a host
// that is shutting down. Either sign alone counts after downGrace: sshd's
// listener gone but the connection still open (a network that went down
// first), or the connection gone but sshd answering (an outage shorter
// than a probe interval: the host may already be back).
func (r *runner) waitDown(ctx context.Context, h Host, lost <-chan struct{}) error {
	to, wt := r.opts.Inventory.Rollout.Timeouts, r.wait
	ctx, cancel := context.WithTimeout(ctx, to.RebootDown)
	defer cancel()
	timedOut := fmt.Errorf("host did not go down within %s of the reboot", to.RebootDown)
	// No probe while the old connection is open, for up to downGrace: each
	// probe costs sshd a fork, and with many hosts shutting down at once on
	// shared CPUs the probes were most of the host work the wait caused.
	var failingSince, lostSince time.Time
	grace := time.NewTimer(wt.downGrace)
	defer grace.Stop()
	select {
	case <-lost:
		lostSince = time.Now()
	case <-grace.C:
	case <-ctx.Done():
		return timedOut
	}
	for {
		err := h.Probe(ctx, wt.probeTimeout)
		if ctx.Err() != nil {
			return timedOut
		}
		now := time.Now()
		switch {
		case err == nil:
			failingSince = time.Time{}
		case failingSince.IsZero():
			failingSince = now
		}
		if lostSince.IsZero() && isDone(lost) {
			lostSince = now
		}
		probeDown, connDown := !failingSince.IsZero(), !lostSince.IsZero()
		if probeDown && connDown ||
			probeDown && now.Sub(failingSince) >= wt.downGrace ||
			connDown && now.Sub(lostSince) >= wt.downGrace {
			return nil
		}
		if !sleepCtx(ctx, wt.probeInterval) {
			return timedOut
		}
	}
}

// errNotBack marks a reboot after which the host did not come back.
var errNotBack = errors.New("host did not come back")

// waitUp waits until sshd answers again and a login reads a boot id other
// than old; it returns that id and the host's uptime then. A login that
// finds the old boot (sshd not stopped yet) waits before the next one.
func (r *runner) waitUp(ctx context.Context, h Host, old string) (string, time.Duration, error) {
	to, wt := r.opts.Inventory.Rollout.Timeouts, r.wait
	ctx, cancel := context.WithTimeout(ctx, to.RebootUp)
	defer cancel()
	var last error
	var notBefore time.Time
	for {
		if err := h.Probe(ctx, wt.probeTimeout); err != nil {
			last = err
		} else if time.Now().After(notBefore) {
			id, up, err := r.loginBootID(ctx, h)
			switch {
			case isHostKeyError(err):
				return "", 0, fmt.Errorf("after the reboot: %w", err)
			case err == nil && id != old:
				return id, up, nil
			case err == nil:
				last = errors.New("sshd answers but the boot id is unchanged (still shutting down)")
				notBefore = time.Now().Add(wt.loginInterval)
			default:
				last = err
			}
		}
		if !sleepCtx(ctx, wt.upProbeInterval) {
			return "", 0, fmt.Errorf("%w within %s (last: %v)", errNotBack, to.RebootUp, last)
		}
	}
}

// afterBoot waits for the new boot's units to be active and healthy and
// measures how late the login noticed sshd: both ends on the host's own
// clock, its uptime when the login read the new boot id (uptime) and sshd's
// start record's monotonic time, read beside the health check since it is
// only a measurement.
func (r *runner) afterBoot(ctx context.Context, h Host, sshd string, t *RebootTiming, issued time.Time, uptime time.Duration) error {
	var started time.Duration
	var startedErr error
	var wg sync.WaitGroup
	wg.Go(func() { started, startedErr = sshdStarted(ctx, h, sshd) })
	defer wg.Wait()
	// sshd comes up before units that wait for the network or mounts: let
	// the boot finish (within what is left of reboot_up), then check health.
	mode, bootWait := "boot", max(r.opts.Inventory.Rollout.Timeouts.RebootUp-time.Since(issued), time.Second)
	for _, svc := range r.share(h.Name()).services {
		if err := health(ctx, h, svc, mode, bootWait); err != nil {
			return fmt.Errorf("after the reboot: %w", err)
		}
		mode, bootWait = "", 0
	}
	t.Active = time.Since(issued)
	wg.Wait()
	if startedErr == nil && uptime > started {
		t.Noticed = uptime - started
	}
	return nil
}

// loginBootID logs in again (the old connection died with the old boot) and
// reads the boot id and the host's uptime in one command.
func (r *runner) loginBootID(ctx context.Context, h Host) (string, time.Duration, error) {
	cctx, cancel := context.WithTimeout(ctx, r.opts.Inventory.Rollout.Timeouts.Connect)
	defer cancel()
	if err := h.Reconnect(cctx); err != nil {
		return "", 0, err
	}
	out, err := h.Run(cctx, "cat", bootIDPath, "/proc/uptime")
	if err != nil {
		return "", 0, fmt.Errorf("read boot id: %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 || len(f[0]) != 36 {
		return "", 0, fmt.Errorf("read boot id: %q", out)
	}
	secs, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return "", 0, fmt.Errorf("read uptime: %q", f[1])
	}
	return f[0], time.Duration(secs * float64(time.Second)), nil
}

func isHostKeyError(err error) bool {
	var hk *remote.HostKeyError
	return errors.As(err, &hk)
}

// isDone reports whether ch is closed.
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// sleepCtx sleeps for d, or returns false when ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// sshdStarted reads when sshd became ready in the current boot, as time
// since boot: the start record of unit, the one that starts sshd: ssh.socket's
// "Listening on" (connections are accepted from then on, the service starts
// with the first), or the service's "Started" (Type=notify: started means
// accepting); "" looks for ssh.service's or sshd.service's.
func sshdStarted(ctx context.Context, h Host, unit string) (time.Duration, error) {
	units := []string{"-u", "ssh.service", "-u", "sshd.service"}
	if unit != "" {
		units = []string{"-u", unit}
	}
	args := append([]string{"journalctl", "-b", "0"}, units...)
	out, err := h.Run(ctx, append(args,
		"MESSAGE_ID=39f53479d3a045ac8e11786248231fbf", "-o", "json", "--output-fields=MESSAGE_ID", "-n", "1", "--no-pager")...)
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	var rec struct {
		Mono string `json:"__MONOTONIC_TIMESTAMP"`
	}
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		return 0, fmt.Errorf("sshd start record: %w", err)
	}
	us, err := strconv.ParseInt(rec.Mono, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sshd start record: no monotonic time")
	}
	return time.Duration(us) * time.Microsecond, nil
}

// rebootPreflight reads what a reboot needs to know of the host: systemd
// runs it, the boot it is in, whether its journal outlives a boot.
func (hr *hostRun) rebootPreflight(ctx context.Context) (string, error) {
	out, err := runScript(ctx, hr.h, scriptFacts)
	if err != nil {
		return "", fmt.Errorf("host facts: %w", err)
	}
	kv := parseKV(out, "=")
	if kv["systemd"] != "yes" {
		return "", errors.New("systemd is not running on this host")
	}
	hr.facts = &Facts{Systemd: true, PersistentJournal: kv["journal"] == "persistent", BootID: kv["boot_id"],
		SystemdVersion: systemdVersion(kv), SSHDUnit: sshdUnit(kv)}
	return "", hr.r.checkInhibitors(hr.h.Name(), kv, true)
}

// reboot is the reboot step: it cold-reboots the host, keeps the timings in
// the host's result and starts the journal read as soon as the host is back.
func (hr *hostRun) reboot(ctx context.Context) (string, error) {
	hr.jr = hr.r.newShutdownRead(hr.ctx, hr.h, hr.facts.PersistentJournal)
	hr.jr.prev = hr.rst.ran
	hr.cleanup = append(hr.cleanup, hr.jr.stop)
	hr.countInFlight(ctx)
	rt, err := hr.r.reboot(ctx, hr.h, hr.facts, hr.jr.start)
	hr.res.Reboot = rt
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("controller: sshd gone %s after the reboot command, back with a new boot id after %s, units active after %s",
		duration.Format(rt.Down), duration.Format(rt.Back), duration.Format(rt.Active)), nil
}

// journal reports the shutdown the reboot caused beside the one before:
// each unit's stop time and whether it was SIGKILLed. The read itself is
// the reboot step's, started as soon as the host was back.
func (hr *hostRun) journal(ctx context.Context) (string, error) {
	if hr.jr == nil {
		return "", errors.New("no reboot to read the journal of")
	}
	timings, err := hr.jr.wait(ctx)
	if err != nil {
		return "", err
	}
	hr.res.Timings = hr.rst.attach(timings, hr.facts.Newest)
	msg := describeTimings(hr.res.Timings)
	if hr.res.Reboot != nil {
		hr.res.Reboot.fromJournal(hr.jr.after)
		if j := hr.res.Reboot.describeJournal(); j != "" {
			msg += "; " + j
		}
	}
	return msg, nil
}

// shutdownRead reads from the journal the shutdown that ended a boot and the
// shutdown before it, and pairs each unit's stops. The reboot step starts it
// the moment the host is back with a new boot id, beside the post-boot health
// check (the old boot's records are final by then), so the journal step only
// collects it. It reads the shutdown the reboot caused, not one read before
// the rollout: no read waits in front of the first change.
type shutdownRead struct {
	r          *runner
	ctx        context.Context // the host's run: the read outlives the reboot step
	h          Host
	persistent bool
	prev       bool // the run restarted: the shutdown before is the previous boot's figure

	once    sync.Once
	done    chan struct{}
	cancel  context.CancelFunc
	timings []UnitTiming
	after   *journal.Shutdown // the shutdown the reboot caused
	err     error
}

func (r *runner) newShutdownRead(ctx context.Context, h Host, persistent bool) *shutdownRead {
	return &shutdownRead{r: r, ctx: ctx, h: h, persistent: persistent, done: make(chan struct{})}
}

// start begins the read of the shutdown that ended boot (the boot the reboot
// ended, even if another came between), with the journal timeout; only the
// first call does anything.
func (s *shutdownRead) start(boot string) {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(s.ctx, s.r.opts.Inventory.Rollout.Timeouts.Journal)
		s.cancel = cancel
		go func() {
			defer close(s.done)
			defer cancel()
			var before *journal.Shutdown
			var beforeNote string
			var beforeErr error
			var wg sync.WaitGroup
			wg.Go(func() { before, beforeNote, beforeErr = lastShutdown(ctx, s.h, s.persistent, boot, true) })
			after, note, err := lastShutdown(ctx, s.h, s.persistent, boot, false)
			wg.Wait()
			if s.err = errors.Join(beforeErr, err); s.err == nil {
				s.timings = unitTimings(s.r.share(s.h.Name()).services, before, after, beforeNote, note, s.prev)
				s.after = after
			}
		}()
	})
}

// wait returns the read's outcome. The reboot step starts the read as soon
// as the host is back: without it, there was no reboot to read.
func (s *shutdownRead) wait(ctx context.Context) ([]UnitTiming, error) {
	if s.cancel == nil {
		return nil, errors.New("no reboot to read the journal of")
	}
	select {
	case <-s.done:
		return s.timings, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// stop ends a read that was started and waits for it: a reboot step that
// failed after the host came back leaves one nobody collects.
func (s *shutdownRead) stop() {
	s.once.Do(func() { close(s.done) }) // never started: nothing to wait for
	if s.cancel != nil {
		s.cancel()
	}
	<-s.done
}
