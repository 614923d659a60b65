package fleet

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/inventory"
)

// preflight checks the host can take the fix, works out what will change
// and opens the run's manifest: this run's, or the unfinished one it
// resumes.
func (hr *hostRun) preflight(ctx context.Context) (string, error) {
	f, err := hr.r.preflight(ctx, hr.h)
	if err != nil {
		return "", err
	}
	hr.facts, hr.planned = f, slices.Clone(f.Changes)
	msg := fmt.Sprintf("%d file(s) to change (%s)", len(f.Changes), strings.Join(hr.give.units(), " "))
	if f.Resume != nil {
		msg += fmt.Sprintf("; resuming run %s (%s)", f.Resume.RunID, f.Resume.State)
	}
	if len(f.Changes) == 0 && f.Resume == nil {
		hr.endEarly(StatusUnchanged, "already at the target: nothing changed, no backup made")
		return msg, nil
	}
	hr.setManifest(hr.r.manifestFor(hr.t.Name, f))
	if hr.m.BootID == "" {
		hr.m.BootID = f.BootID
	}
	hr.planRestart(ctx)
	return msg, nil
}

// backup copies every file the run will replace to <path>.bak.<run id>,
// verified against the sha256 preflight saw, in one session. A backup
// already made by this run (a resumed run) is checked, not made again.
func (hr *hostRun) backup(ctx context.Context) (string, error) {
	var args []string
	for _, c := range hr.m.Changes {
		if c.Existed && !c.Done {
			args = append(args, c.Path, c.Backup, c.OldSHA256)
		}
	}
	if len(args) == 0 {
		return "0 file(s) backed up", nil
	}
	out, err := runScript(ctx, hr.h, scriptBackup, args...)
	if err != nil {
		return "", fmt.Errorf("back up: %w", err)
	}
	return fmt.Sprintf("%d file(s) backed up", strings.Count(string(out), "made")), nil
}

func (hr *hostRun) pushArtifacts(ctx context.Context) (string, error) {
	return hr.push(ctx, "artifact")
}

func (hr *hostRun) pushDropIns(ctx context.Context) (string, error) {
	return hr.push(ctx, "dropin")
}

// push writes the new content of every change of the given kind, atomically,
// with its mode and owner.
func (hr *hostRun) push(ctx context.Context, kind string) (string, error) {
	h, m := hr.h, hr.m
	n := 0
	for i := range m.Changes {
		c := &m.Changes[i]
		if c.Kind != kind || c.Done {
			continue // another kind, or already written by the run this one resumes
		}
		content, ok := hr.give.content[c.Path]
		if !ok {
			return "", fmt.Errorf("no content for %s", c.Path)
		}
		mode, err := parseOctalMode(c.NewMode)
		if err != nil {
			return "", err
		}
		if c.CreatedDir != "" {
			if _, err := h.Run(ctx, "mkdir", "-p", "-m", "0755", "--", path.Dir(c.Path)); err != nil {
				return "", fmt.Errorf("create %s: %w", path.Dir(c.Path), err)
			}
		}
		sum, err := h.Upload(ctx, bytes.NewReader(content), c.Path, mode, c.NewOwner)
		if err != nil {
			return "", fmt.Errorf("push %s: %w", c.Path, err)
		}
		if sum != c.NewSHA256 {
			return "", fmt.Errorf("push %s: host has sha256 %s, want %s", c.Path, short(sum), short(c.NewSHA256))
		}
		c.Done = true
		n++
	}
	if hr.r.opts.plan != "" {
		return fmt.Sprintf("would write %d file(s)", n), nil // a dry host wrote none
	}
	return fmt.Sprintf("%d file(s) written", n), nil
}

// reload runs daemon-reload and checks that each drop-in is loaded and its
// settings took effect, as systemctl show reports them.
func (hr *hostRun) reload(ctx context.Context) (string, error) {
	units := hr.give.units()
	out, err := runScript(ctx, hr.h, scriptReload, units...)
	if err != nil {
		return "", fmt.Errorf("daemon-reload: %w", err)
	}
	blocks := strings.Split("\n"+string(out), "\nfleetfix-unit\n")[1:]
	if len(blocks) != len(units) {
		return "", fmt.Errorf("daemon-reload: %d unit answers for %d units", len(blocks), len(units))
	}
	var checked []string
	for i, svc := range hr.give.services {
		props := parseKV([]byte(blocks[i]), "=")
		hr.rst.noteStopTimeout(svc.Unit, props)
		if len(svc.DropIn.Settings) == 0 {
			continue
		}
		p := svc.DropIn.Path(svc.Unit)
		if !strings.Contains(" "+props["DropInPaths"]+" ", " "+p+" ") {
			return "", fmt.Errorf("%s: drop-in %s is not loaded (DropInPaths=%s)", svc.Unit, p, props["DropInPaths"])
		}
		var took []string
		for _, s := range svc.DropIn.Settings {
			ok, prop, got := settingTook(s, props)
			if !ok {
				return "", fmt.Errorf("%s: %s=%s did not take effect: %s=%s (another drop-in may override it)", svc.Unit, s.Key, s.Value, prop, got)
			}
			if prop != "" {
				took = append(took, prop+"="+got)
			}
		}
		if len(took) > 0 {
			checked = append(checked, svc.Unit+" "+strings.Join(took, " "))
		}
	}
	return "settings in effect: " + strings.Join(checked, "; "), nil
}

// health runs scriptHealth for svc: mode "restart" restarts the unit first,
// "boot" waits up to bootWait for the boot to finish first, "" only waits,
// and "started" only waits, right after the restart started the unit. The
// unit then has its health timeout to be active and healthy; a failure
// says what was seen last, never a bare deadline.
func health(ctx context.Context, h Host, svc inventory.Service, mode string, bootWait time.Duration) error {
	timeout := healthTimeout(svc)
	// The script keeps its own time; this deadline only catches a host
	// that stops answering.
	ctx, cancel := context.WithTimeout(ctx, bootWait+timeout+healthSlack)
	defer cancel()
	args := []string{mode, strconv.Itoa(max(1, int(bootWait.Seconds()))), svc.Unit, svc.Health.TCP, strconv.FormatInt(timeout.Milliseconds()/10, 10)}
	out, err := runScript(ctx, h, scriptHealth, append(args, svc.Health.Command...)...)
	switch {
	case err == nil:
		return nil
	case exitStatus(err) == 1 && mode == "started":
		return fmt.Errorf("%s not healthy %s after start: %s", svc.Unit, timeout, strings.TrimSpace(string(out)))
	case exitStatus(err) == 1:
		return fmt.Errorf("%s not healthy within %s: %s", svc.Unit, timeout, strings.TrimSpace(string(out)))
	case ctx.Err() != nil:
		return fmt.Errorf("%s health: the host gave no answer within %s of the health wait (%s)", svc.Unit, duration.Format(bootWait+timeout+healthSlack), err)
	case mode == "restart":
		return fmt.Errorf("restart %s: %w", svc.Unit, err)
	}
	return fmt.Errorf("%s health: %w", svc.Unit, err)
}

// healthTimeout is how long svc has to be healthy once started.
func healthTimeout(svc inventory.Service) time.Duration {
	if svc.Health.Timeout > 0 {
		return svc.Health.Timeout
	}
	return 15 * time.Second
}

// healthSlack is what a health wait may overrun its timeout by before the
// controller gives up on the host: the script's last check and the round
// trip.
const healthSlack = 10 * time.Second

// settingTook compares a drop-in setting with the unit's property. It knows
// how systemd renames and reformats the settings fleetfix is for (stop
// timeouts, kill signals, KillMode); other keys are trusted to DropInPaths
// (prop == "").
func settingTook(s inventory.Setting, props map[string]string) (ok bool, prop, got string) {
	switch s.Key {
	case "TimeoutStopSec", "TimeoutStartSec", "RestartSec", "WatchdogSec":
		prop = strings.TrimSuffix(s.Key, "Sec") + "USec"
		if s.Key == "RestartSec" {
			prop = "RestartUSec"
		}
		got = props[prop]
		want, err1 := parseSystemdDuration(s.Value)
		have, err2 := parseSystemdDuration(got)
		return err1 == nil && err2 == nil && want == have, prop, got
	case "KillSignal", "FinalKillSignal", "RestartKillSignal", "WatchdogSignal":
		got = props[s.Key]
		want, ok := signalNumber(s.Value)
		return ok && got == want, s.Key, got
	case "KillMode":
		got = props[s.Key]
		return got == s.Value, s.Key, got
	}
	// systemctl show reformats most settings (booleans as yes/no, sizes in
	// bytes, ExecStart as a structure): a literal comparison would fail good
	// drop-ins. DropInPaths already proved the file is loaded.
	return true, "", ""
}

var signals = map[string]string{
	"SIGHUP": "1", "SIGINT": "2", "SIGQUIT": "3", "SIGKILL": "9", "SIGUSR1": "10",
	"SIGUSR2": "12", "SIGTERM": "15", "SIGCONT": "18", "SIGSTOP": "19", "SIGABRT": "6",
}

func signalNumber(v string) (string, bool) {
	if n, ok := signals[strings.ToUpper(v)]; ok {
		return n, true
	}
	if n, ok := signals["SIG"+strings.ToUpper(v)]; ok {
		return n, true
	}
	for _, n := range signals {
		if n == v {
			return n, true
		}
	}
	return "", false
}

// parseSystemdDuration reads a systemd time span (inventory.ParseTimespan):
// "20s", "1min 30s", "90" (seconds), "infinity" (-1).
func parseSystemdDuration(s string) (time.Duration, error) {
	d, err := inventory.ParseTimespan(s)
	if err != nil {
		return 0, fmt.Errorf("time span %q: %w", s, err)
	}
	return d, nil
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}
