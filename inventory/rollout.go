package inventory

import (
	"time"

	"gopkg.in/yaml.v3"
)

// rollout reads the rollout section at v over DefaultPolicy.
func (l *loader) rollout(v value) {
	pol := DefaultPolicy()
	defer func() { l.inv.Rollout = pol }()
	f, ok := l.mapping(v, "canary", "batch", "max_parallel", "failure_budget", "reboot", "on_failure", "restart", "confirm_timeout", "lock_lease", "settle", "timeouts", "reboot_inhibitors")
	if !ok {
		return
	}
	canary := f.get("canary")
	if n, set := scalar[int](l, canary, wantInt); set {
		if n < 0 {
			l.add(canary, "must be 0 (no canary) or more, got %d", n)
		}
		pol.Canary = n
	}
	batch := f.get("batch")
	if a, ok := l.amount(batch); ok {
		if a.N == 0 {
			l.add(batch, "must be at least 1 host or 1%%")
		}
		pol.Batch = a
	}
	maxPar := f.get("max_parallel")
	if n, set := scalar[int](l, maxPar, wantInt); set {
		if n < 1 {
			l.add(maxPar, "must be at least 1, got %d", n)
		}
		pol.MaxParallel = n
	}
	if a, ok := l.amount(f.get("failure_budget")); ok {
		pol.FailureBudget = a
	}
	if b := l.flag(f.get("reboot")); b != nil {
		pol.Reboot = *b
	}
	if d, set := scalar[time.Duration](l, f.get("confirm_timeout"), wantDuration); set {
		if d < 0 {
			l.add(f.get("confirm_timeout"), "must be 0 (no guard) or more, got %s", d)
		}
		pol.ConfirmTimeout = d
	}
	lease := f.get("lock_lease")
	if d, set := scalar[time.Duration](l, lease, wantDuration); set {
		if d < MinLockLease {
			l.add(lease, "must be at least %s, got %s", MinLockLease, d)
		}
		pol.LockLease = d
	}
	onFailure := f.get("on_failure")
	switch s, _ := l.str(onFailure); OnFailure(s) {
	case "":
	case OnFailureRollback, OnFailureStop:
		pol.OnFailure = OnFailure(s)
	default:
		l.add(onFailure, "must be rollback or stop, got %q", s)
	}
	if s := l.choice(f.get("restart"), RestartTogether, RestartSequential); s != "" {
		pol.Restart = s
	}
	if s := l.choice(f.get("reboot_inhibitors"), InhibitorsRespect, InhibitorsIgnore); s != "" {
		pol.RebootInhibitors = s
	}
	l.timeouts(f.get("timeouts"), &pol.Timeouts)
	settle := f.get("settle")
	if d, set := scalar[time.Duration](l, settle, wantDuration); set {
		if d < 0 {
			l.add(settle, "must be 0 (no wait) or more, got %s", d)
		}
		pol.Settle = d
	}
}

// choice reads the string at v, which must be a or b; "" when it is unset
// or another (which is reported).
func (l *loader) choice(v value, a, b string) string {
	s, ok := l.str(v)
	switch {
	case !ok || s == "":
		return ""
	case s == a || s == b:
		return s
	}
	l.add(v, "must be %s or %s, got %q", a, b, s)
	return ""
}

// timeouts reads the timeouts at v over t.
func (l *loader) timeouts(v value, t *Timeouts) {
	steps := []struct {
		key string
		dst *time.Duration
	}{
		{"connect", &t.Connect},
		{"preflight", &t.Preflight},
		{"backup", &t.Backup},
		{"push", &t.Push},
		{"reload", &t.Reload},
		{"restart", &t.Restart},
		{"reboot_down", &t.RebootDown},
		{"reboot_up", &t.RebootUp},
		{"journal", &t.Journal},
	}
	keys := make([]string, len(steps))
	for i, s := range steps {
		keys[i] = s.key
	}
	f, ok := l.mapping(v, keys...)
	if !ok {
		return
	}
	for _, s := range steps {
		if d, set := l.positive(f.get(s.key)); set {
			*s.dst = d
		}
	}
}

// amount reads an Amount at v; ok is false when v is absent or invalid.
func (l *loader) amount(v value) (Amount, bool) {
	if !v.present() {
		return Amount{}, false
	}
	n := v.node()
	if n.Kind != yaml.ScalarNode {
		l.add(v, "must be a number of hosts such as 3, or a percentage such as 25%%")
		return Amount{}, false
	}
	a, err := ParseAmount(n.Value)
	if err != nil {
		l.add(v, "%v", err)
		return Amount{}, false
	}
	return a, true
}
