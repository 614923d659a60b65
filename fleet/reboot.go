package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/remote"
)

// RebootTiming is what a cold reboot took, measured from the controller.
type RebootTiming struct {
	OldBootID string `json:"old_boot_id"`
	NewBootID string `json:"new_boot_id"`
	// Down is reboot issued -> sshd stopped answering; 0 when the outage was
	// too short to see (the new boot id still proves the reboot).
	Down time.Duration `json:"down_ns"`
	// Back is reboot issued -> sshd answering with a new boot id.
	Back time.Duration `json:"back_ns"`
	// Active is reboot issued -> every unit active and healthy again.
	Active time.Duration `json:"active_ns"`
	// Noticed is sshd ready (its start record in the new boot's journal) ->
	// fleetfix logged in and read the new boot id: the reboot detection
	// latency. Negative or absent when the host's clock disagrees.
	Noticed time.Duration `json:"noticed_ns,omitempty"`
}

// Reboot wait tuning. A probe is a TCP connect and an SSH banner, not a
// login, so polling it often costs a shutting-down host next to nothing.
const (
	probeInterval = 100 * time.Millisecond
	probeTimeout  = 500 * time.Millisecond
	// loginInterval is how often the down wait logs in to compare boot ids,
	// in case the outage was shorter than a probe interval.
	loginInterval = 2 * time.Second
)

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
func (r *runner) reboot(ctx context.Context, h Host) (*RebootTiming, error) {
	to := r.opts.Inventory.Rollout.Timeouts
	old, err := bootID(ctx, h)
	if err != nil {
		return nil, err
	}
	t := &RebootTiming{OldBootID: old}
	// A transient timer lets the SSH command return before the shutdown
	// starts; its default AccuracySec of a minute would delay it by seconds.
	issued := time.Now()
	_, err = h.Run(ctx, "systemd-run", "--quiet", "--on-active=100ms", "--timer-property=AccuracySec=10ms", "systemctl", "reboot")
	var exit interface{ ExitStatus() int }
	if errors.As(err, &exit) && exit.ExitStatus() != 255 {
		return nil, fmt.Errorf("issue reboot: %w", err)
	}
	// Any other error is the connection going down under the command: issued.

	// Down: sshd stops answering, or (a missed outage) the boot id changed.
	downCtx, cancel := context.WithTimeout(ctx, to.RebootDown)
	defer cancel()
	lastLogin := time.Now()
	back := false
	for !back {
		if err := h.Probe(downCtx, probeTimeout); err != nil {
			if downCtx.Err() != nil {
				return nil, fmt.Errorf("host did not go down within %s of the reboot", to.RebootDown)
			}
			t.Down = time.Since(issued)
			break
		}
		if time.Since(lastLogin) >= loginInterval {
			lastLogin = time.Now()
			if id, err := r.loginBootID(downCtx, h); err == nil && id != old {
				t.NewBootID, back = id, true
				break
			} else if isHostKeyError(err) {
				return nil, err
			}
		}
		if !sleepCtx(downCtx, probeInterval) {
			return nil, fmt.Errorf("host did not go down within %s of the reboot", to.RebootDown)
		}
	}
	cancel()

	// Back: sshd answers again and a login reads a new boot id.
	upCtx, cancelUp := context.WithTimeout(ctx, to.RebootUp)
	defer cancelUp()
	var last error
	for !back {
		if err := h.Probe(upCtx, probeTimeout); err == nil {
			id, err := r.loginBootID(upCtx, h)
			switch {
			case isHostKeyError(err):
				return nil, fmt.Errorf("after the reboot: %w", err)
			case err == nil && id != old:
				t.NewBootID, back = id, true
				continue
			case err == nil:
				last = errors.New("sshd answers but the boot id is unchanged (still shutting down)")
			default:
				last = err
			}
		} else {
			last = err
		}
		if !sleepCtx(upCtx, probeInterval) {
			return nil, fmt.Errorf("host did not come back within %s (last: %v)", to.RebootUp, last)
		}
	}
	noticed := time.Now()
	t.Back = noticed.Sub(issued)
	for _, svc := range r.services {
		if err := waitHealthy(ctx, h, svc); err != nil {
			return t, fmt.Errorf("after the reboot: %w", err)
		}
	}
	t.Active = time.Since(issued)
	if started, err := sshdStarted(ctx, h); err == nil {
		t.Noticed = noticed.Sub(started)
	}
	return t, nil
}

// loginBootID logs in again (the old connection died with the old boot) and
// reads the boot id.
func (r *runner) loginBootID(ctx context.Context, h Host) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, r.opts.Inventory.Rollout.Timeouts.Connect)
	defer cancel()
	if err := h.Reconnect(cctx); err != nil {
		return "", err
	}
	return bootID(cctx, h)
}

func isHostKeyError(err error) bool {
	var hk *remote.HostKeyError
	return errors.As(err, &hk)
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

// sshdStarted reads when sshd became ready in the current boot: the
// "Started" record of its unit (Type=notify: started means accepting).
func sshdStarted(ctx context.Context, h Host) (time.Time, error) {
	out, err := h.Run(ctx, "journalctl", "-b", "0", "-u", "ssh.service", "-u", "sshd.service",
		"MESSAGE_ID=39f53479d3a045ac8e11786248231fbf", "-o", "json", "--output-fields=_SOURCE_REALTIME_TIMESTAMP", "-n", "1", "--no-pager")
	if err != nil {
		return time.Time{}, err
	}
	return firstRecordTime(out)
}

// firstRecordTime reads the time of the first record of journalctl -o json
// output.
func firstRecordTime(out []byte) (time.Time, error) {
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if line == "" {
		return time.Time{}, errors.New("no journal record")
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		return time.Time{}, err
	}
	for _, k := range []string{"_SOURCE_REALTIME_TIMESTAMP", "__REALTIME_TIMESTAMP"} {
		if s, ok := rec[k].(string); ok {
			us, err := strconv.ParseInt(s, 10, 64)
			if err == nil {
				return time.UnixMicro(us), nil
			}
		}
	}
	return time.Time{}, errors.New("journal record without a timestamp")
}

// rebootHost is the work of `fleetfix reboot`: connect, read the last
// shutdown, reboot, read the one the reboot caused.
func (r *runner) rebootHost(ctx context.Context, t Target, batch int) HostResult {
	start := time.Now()
	res := HostResult{Host: t.Name, Batch: batch}
	to := r.opts.Inventory.Rollout.Timeouts
	fail := func(step Step, err error) HostResult {
		he := &HostError{Host: t.Name, Step: step, Err: err}
		res.Status, res.Step, res.Error, res.err, res.Duration = StatusFailed, step, err.Error(), he, time.Since(start)
		r.emit(Event{Host: t.Name, Step: step, Phase: PhaseFail, Batch: batch, Err: he, Message: err.Error(), Result: &res})
		return res
	}
	step := func(s Step, timeout time.Duration, do func(context.Context) (string, error)) error {
		r.emit(Event{Host: t.Name, Step: s, Phase: PhaseStart, Batch: batch})
		t0 := time.Now()
		sctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		msg, err := do(sctx)
		if err == nil {
			r.emit(Event{Host: t.Name, Step: s, Phase: PhaseDone, Batch: batch, Duration: time.Since(t0), Message: msg})
		}
		return err
	}
	var h Host
	if err := step(StepConnect, to.Connect, func(ctx context.Context) (string, error) {
		var err error
		h, err = r.opts.Dial(ctx, t)
		return "", err
	}); err != nil {
		return fail(StepConnect, err)
	}
	defer h.Close()
	var before *Shutdown
	var beforeNote string
	persistent := true
	if err := step(StepPreflight, to.Preflight, func(ctx context.Context) (string, error) {
		out, err := runScript(ctx, h, scriptFacts)
		if err != nil {
			return "", fmt.Errorf("host facts: %w", err)
		}
		kv := parseKV(out, "=")
		if kv["systemd"] != "yes" {
			return "", errors.New("systemd is not running on this host")
		}
		persistent = kv["journal"] == "persistent"
		before, beforeNote, err = lastShutdown(ctx, h, persistent)
		return "", err
	}); err != nil {
		return fail(StepPreflight, err)
	}
	if r.isHalted() {
		res.Status, res.Step, res.Duration = StatusHalted, StepReboot, time.Since(start)
		r.emit(Event{Host: t.Name, Step: StepReboot, Phase: PhaseHalted, Batch: batch, Message: "halted before this step", Result: &res})
		return res
	}
	if err := step(StepReboot, to.RebootDown+to.RebootUp+to.Restart, r.rebootStep(h, &res)); err != nil {
		return fail(StepReboot, err)
	}
	if err := step(StepJournal, to.Journal, r.journalStep(h, &res, before, beforeNote, persistent)); err != nil {
		return fail(StepJournal, err)
	}
	res.Status, res.Duration = StatusOK, time.Since(start)
	r.emit(Event{Host: t.Name, Step: StepRun, Phase: PhaseDone, Batch: batch, Duration: res.Duration, Message: "rebooted", Result: &res})
	return res
}

// rebootStep is the reboot step of a host's sequence; it records its
// timings in res.
func (r *runner) rebootStep(h Host, res *HostResult) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		rt, err := r.reboot(ctx, h)
		res.Reboot = rt
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("down after %s, back with a new boot id after %s, units active after %s",
			roundDur(rt.Down), roundDur(rt.Back), roundDur(rt.Active)), nil
	}
}

// journalStep reads the shutdown the reboot caused and pairs each unit's
// stop with the one before.
func (r *runner) journalStep(h Host, res *HostResult, before *Shutdown, beforeNote string, persistent bool) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		after, note, err := lastShutdown(ctx, h, persistent)
		if err != nil {
			return "", err
		}
		res.Timings = unitTimings(r.services, before, after, beforeNote, note)
		return describeTimings(res.Timings), nil
	}
}
