package fleet

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fleetfix/fleetfix/inventory"
)

// What differs between the systemd versions a fleet runs, in one place:
// which drop-in settings a host's systemd knows (inventory.SettingSince),
// how its logind treats block inhibitors at a reboot, and which unit
// starts its sshd.

// systemdStrictInhibitors is the first systemd whose logind refuses even
// root's reboot while a block inhibitor is held, --check-inhibitors=no
// included ("Call to Reboot failed: Access denied"; measured on 257.13,
// while 252 reboots).
const systemdStrictInhibitors = 257

// systemdCheckInhibitors is the first systemctl with --check-inhibitors=
// (older ones spell it --ignore-inhibitors).
const systemdCheckInhibitors = 248

// checkSettings refuses a drop-in setting the host's systemd does not know
// yet: systemd would ignore it with a warning at daemon-reload, and the
// fix would not take. An unknown version (0) checks nothing.
func (w *hostShare) checkSettings(version int) error {
	if version <= 0 {
		return nil
	}
	for _, svc := range w.services {
		if key, since := svc.DropIn.NewestSetting(); since > version {
			return fmt.Errorf("drop-in for %s: %s= needs systemd %d or later; this host runs systemd %d: leave it out of the inventory for this host, or upgrade systemd", svc.Unit, key, since, version)
		}
	}
	return nil
}

// Inhibitor is one of logind's inhibitor locks, as ListInhibitors gives it.
type Inhibitor struct {
	What, Who, Why, Mode string
	UID, PID             int
}

func (i Inhibitor) String() string {
	return fmt.Sprintf("%q (%s, pid %d, uid %d, %s %s)", i.Who, i.Why, i.PID, i.UID, i.Mode, i.What)
}

// blocksReboot reports whether the lock holds a reboot back.
func (i Inhibitor) blocksReboot() bool {
	return i.Mode == "block" && slices.Contains(strings.Split(i.What, ":"), "shutdown")
}

// busctlRows reads the array of structures of a `busctl call --json=short`
// answer: {"type":"a(...)","data":[[[field, ...], ...]]}.
func busctlRows(s string) ([][]any, error) {
	var v struct {
		Data [][][]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	if len(v.Data) != 1 {
		return nil, fmt.Errorf("%d return values, want 1", len(v.Data))
	}
	return v.Data[0], nil
}

// parseInhibitors reads ListInhibitors' a(ssssuu): what, who, why, mode,
// uid, pid.
func parseInhibitors(s string) ([]Inhibitor, error) {
	rows, err := busctlRows(s)
	if err != nil {
		return nil, fmt.Errorf("inhibitors: %w", err)
	}
	var out []Inhibitor
	for _, r := range rows {
		if len(r) != 6 {
			return nil, fmt.Errorf("inhibitors: %d fields, want 6", len(r))
		}
		out = append(out, Inhibitor{What: str(r[0]), Who: str(r[1]), Why: str(r[2]), Mode: str(r[3]), UID: num(r[4]), PID: num(r[5])})
	}
	return out, nil
}

// parseSessions reads ListSessions' a(susso) (id, uid, user, seat, path)
// as "user (session id)" each.
func parseSessions(s string) ([]string, error) {
	rows, err := busctlRows(s)
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	var out []string
	for _, r := range rows {
		if len(r) < 3 {
			return nil, fmt.Errorf("sessions: %d fields, want 5", len(r))
		}
		out = append(out, fmt.Sprintf("%s (session %s)", str(r[2]), str(r[0])))
	}
	return out, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// checkInhibitors reads, from the host's facts, the inhibitors that would
// hold its reboot back and who is logged in. With reboot_inhibitors:
// respect a blocking lock fails the host here, before any change; with
// ignore it is reported and the reboot goes past it. Sessions are
// reported only: their users' work ends with the reboot. A run that does
// not reboot (reboots false) checks nothing.
func (r *runner) checkInhibitors(host string, kv map[string]string, reboots bool) error {
	inv := r.opts.Inventory
	if inv == nil || !reboots {
		return nil
	}
	const step = StepPreflight
	if s := kv["sessions"]; s != "" {
		if users, err := parseSessions(s); err != nil {
			return err
		} else if len(users) > 0 {
			r.info(host, step, true, "logged in: "+strings.Join(users, ", ")+"; the reboot ends their sessions")
		}
	}
	s, ok := kv["inhibitors"]
	if !ok {
		r.info(host, step, false, "inhibitors unknown (no busctl, or logind does not answer): the reboot may be refused")
		return nil
	}
	all, err := parseInhibitors(s)
	if err != nil {
		return err
	}
	var block []string
	for _, i := range all {
		if i.blocksReboot() {
			block = append(block, i.String())
		}
	}
	if len(block) == 0 {
		return nil
	}
	if inv.Rollout.RebootInhibitors == inventory.InhibitorsIgnore {
		r.info(host, step, true, "the reboot goes past inhibitors (reboot_inhibitors: ignore): "+strings.Join(block, ", "))
		return nil
	}
	return fmt.Errorf("reboot inhibited by %s: end it, or set rollout.reboot_inhibitors: ignore", strings.Join(block, ", "))
}

// rebootCommand is the command that reboots a host running systemd
// version, past its block inhibitors when ignore is set. From
// systemdStrictInhibitors on, logind refuses that, so the reboot goes to
// PID 1 directly, as systemctl does when logind is not there: the same
// orderly shutdown, without logind's "System is rebooting." record (the
// journal then dates the request by the first stop job).
func rebootCommand(version int, ignore bool) []string {
	switch {
	case !ignore:
		return []string{"systemctl", "--no-block", "reboot"}
	case version >= systemdStrictInhibitors:
		return []string{"systemctl", "--no-block", "--job-mode=replace-irreversibly", "start", "reboot.target"}
	case version >= systemdCheckInhibitors:
		return []string{"systemctl", "--no-block", "--check-inhibitors=no", "reboot"}
	}
	return []string{"systemctl", "--no-block", "--ignore-inhibitors", "reboot"}
}

// sshdUnits are the units that may start a host's sshd, in the order the
// facts script asks: a listening ssh.socket is what starts sshd on a
// socket-activated host (Ubuntu 24.04, `lab up --ssh-socket`).
var sshdUnits = []string{"ssh.socket", "ssh.service", "sshd.service"}

// sshdUnit is the unit the facts name as starting sshd; "" when none was
// active (the start record is then looked for under both service names).
func sshdUnit(kv map[string]string) string {
	if u := kv["sshd_unit"]; slices.Contains(sshdUnits, u) {
		return u
	}
	return ""
}

// systemdVersion reads the facts' version: 0 when unknown.
func systemdVersion(kv map[string]string) int {
	v, _ := strconv.Atoi(kv["systemd_version"])
	return v
}
