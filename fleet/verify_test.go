package fleet

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/journal"
)

func TestVerifyStops(t *testing.T) {
	n := func(i int) *int { return &i }
	clean := &journal.UnitStop{Duration: 12 * time.Millisecond, Result: "clean"}
	killed := &journal.UnitStop{Duration: 20100 * time.Millisecond, Killed: true, Result: "timeout"}
	slow := &journal.UnitStop{Duration: 3200 * time.Millisecond, Result: "clean"}
	tests := []struct {
		name   string
		verify inventory.Verify
		timing UnitTiming
		want   string // the error; "" passes
	}{
		{"a clean stop passes the default", inventory.Verify{}, UnitTiming{After: clean}, ""},
		{"a SIGKILLed stop fails the default", inventory.Verify{}, UnitTiming{After: killed},
			"a.service: stop 20.10s, SIGKILLed at the reboot: the fix did not take"},
		{"allow_sigkill passes it", inventory.Verify{AllowSIGKILL: true}, UnitTiming{After: killed}, ""},
		{"slower than max_stop", inventory.Verify{MaxStop: 2 * time.Second}, UnitTiming{After: slow},
			"a.service: stop 3.20s at the reboot, over max_stop 2.00s"},
		{"at max_stop passes", inventory.Verify{MaxStop: 3200 * time.Millisecond}, UnitTiming{After: slow}, ""},
		{"SIGKILLed and slow: both said", inventory.Verify{MaxStop: time.Second}, UnitTiming{After: killed},
			"a.service: stop 20.10s, SIGKILLed at the reboot: the fix did not take; a.service: stop 20.10s at the reboot, over max_stop 1.00s"},
		{"fewer in flight than min_in_flight", inventory.Verify{MinInFlight: 2}, UnitTiming{After: clean, InFlight: n(1)},
			"a.service: 1 in flight at the reboot, fewer than min_in_flight 2: the stop proves too little"},
		{"enough in flight", inventory.Verify{MinInFlight: 2}, UnitTiming{After: clean, InFlight: n(2)}, ""},
		{"in flight not counted, min_in_flight set", inventory.Verify{MinInFlight: 1}, UnitTiming{After: clean},
			"a.service: connections in flight at the reboot not counted: min_in_flight 1 cannot be checked"},
		{"not counted, min_in_flight 0: idle is only flagged", inventory.Verify{}, UnitTiming{After: clean, InFlight: n(0)}, ""},
		{"no stop in the journal", inventory.Verify{AllowSIGKILL: true}, UnitTiming{AfterNote: "the unit did not stop in that shutdown"},
			"a.service: no stop at the reboot to verify: the unit did not stop in that shutdown"},
		{"a stop the journal cuts off", inventory.Verify{AllowSIGKILL: true}, UnitTiming{After: &journal.UnitStop{Duration: 1500 * time.Millisecond, Unfinished: true}},
			"a.service: stop ≥1.50s at the reboot, unfinished (the journal ends mid-stop): nothing to verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.timing.Unit = "a.service"
			err := verifyStops([]inventory.Service{{Unit: "a.service", Verify: tt.verify}}, []UnitTiming{tt.timing})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("verifyStops = %q, want %q", got, tt.want)
			}
		})
	}
}

// Every service is verified, each unit's failures after the other's, and a
// service without timings fails.
func TestVerifyStopsEveryService(t *testing.T) {
	services := []inventory.Service{{Unit: "a.service"}, {Unit: "b.service"}, {Unit: "c.service"}}
	ts := []UnitTiming{
		{Unit: "b.service", After: &journal.UnitStop{Duration: 5 * time.Second, Killed: true}},
		{Unit: "a.service", After: &journal.UnitStop{Duration: time.Millisecond, Result: "clean"}},
	}
	want := "b.service: stop 5.00s, SIGKILLed at the reboot: the fix did not take; c.service: no stop at the reboot to verify: no timings for the unit"
	if err := verifyStops(services, ts); err == nil || err.Error() != want {
		t.Errorf("verifyStops = %v, want %q", err, want)
	}
}

// rebootableHost is outdatedHost that also plays a cold reboot: the reboot
// command starts a short outage (probes fail), after which the boot id is
// new, and the journal answers the boot before with before and the boot the
// reboot ended with after (journalctl -o json captures).
func rebootableHost(t *testing.T, name, before, after string) *scriptedHost {
	t.Helper()
	read := func(f string) []byte {
		b, err := os.ReadFile("../journal/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	beforeJ, afterJ := read(before), read(after)
	h := outdatedHost(name)
	var mu sync.Mutex
	var issued time.Time
	since := func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		if issued.IsZero() {
			return -1
		}
		return time.Since(issued)
	}
	h.answers["systemctl"] = func(c call) ([]byte, error) {
		if slices.Contains(c.args, "reboot") {
			mu.Lock()
			issued = time.Now()
			mu.Unlock()
		}
		return nil, nil
	}
	h.answers["cat"] = func(c call) ([]byte, error) {
		if since() < 0 {
			return []byte(oldID + "\n"), nil
		}
		return []byte(newID + "\n12.50 20.00\n"), nil
	}
	h.answers["journalctl"] = fails("no sshd records", 1) // only the detection latency's figure
	h.answers["journal"] = func(c call) ([]byte, error) {
		if strings.HasSuffix(c.args[0], "-1") {
			return beforeJ, nil
		}
		return afterJ, nil
	}
	h.probe = func() error {
		if s := since(); s >= 0 && s < 200*time.Millisecond {
			return errors.New("connection refused")
		}
		return nil
	}
	return h
}

// rollWithReboot rolls out to hosts with the reboot, the reboot wait at a
// hundredth of real time.
func rollWithReboot(t *testing.T, p inventory.Policy, hosts ...*scriptedHost) (*Summary, *recorder) {
	t.Helper()
	inv := fakeInventory(t, len(hosts), p)
	inv.Rollout.Reboot = true
	inv.Rollout.Timeouts.RebootDown, inv.Rollout.Timeouts.RebootUp = 5*time.Second, 5*time.Second
	inv.Services[0].Unit = "smart-proxy.service"
	byName := map[string]*scriptedHost{}
	for _, h := range hosts {
		byName[h.name] = h
	}
	rec := &recorder{}
	r, err := newRunner(Options{Inventory: inv, Reporter: rec,
		Dial: func(_ context.Context, tg inventory.Target) (Host, error) { return byName[tg.Name], nil }})
	if err != nil {
		t.Fatal(err)
	}
	r.wait = scaledWait(100)
	return r.roll(context.Background(), r.work(rolloutFlow(r.opts))), rec
}

// A canary whose unit is still SIGKILLed at the reboot fails at verify, with
// the figure, and the run halts: the next host is not touched.
func TestVerifyFailsTheCanary(t *testing.T) {
	h1 := rebootableHost(t, "h1", "buggy-reboot.jsonl", "buggy-reboot.jsonl")
	h2 := rebootableHost(t, "h2", "buggy-reboot.jsonl", "fixed-reboot.jsonl")
	s, rec := rollWithReboot(t, inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 1}, MaxParallel: 1}, h1, h2)
	res := s.Hosts[0]
	want := "smart-proxy.service: stop 5.03s, SIGKILLed at the reboot: the fix did not take"
	if res.Status != StatusFailed || res.Step != StepVerify || res.Error != want {
		t.Fatalf("h1: %s at %s: %q, want failed at verify: %q\n%s", res.Status, res.Step, res.Error, want, rec.trail("h1"))
	}
	if !strings.HasSuffix(rec.trail("h1"), "journal:done verify:start verify:fail") {
		t.Errorf("h1 events: %s", rec.trail("h1"))
	}
	if len(res.Timings) != 1 || res.Timings[0].After == nil || !res.Timings[0].After.Killed {
		t.Errorf("h1 timings %+v: want the SIGKILLed stop kept in the result", res.Timings)
	}
	ms, _, err := h1.saves()
	if err != nil {
		t.Fatal(err)
	}
	if last := ms[len(ms)-1]; last.State != StateFailed {
		t.Errorf("h1's manifest ends %s, want %s", last.State, StateFailed)
	}
	if !s.Halted || s.Hosts[1].Status != StatusNotStarted || len(h2.received()) != 0 {
		t.Errorf("halted %v, h2 %s, h2 received %v: want the run halted before h2", s.Halted, s.Hosts[1].Status, h2.received())
	}
}

// A clean stop passes the gate; settle, when set, waits between the restart
// and the reboot as a step of its own.
func TestVerifyPassesAndSettleWaits(t *testing.T) {
	h := rebootableHost(t, "h1", "buggy-reboot.jsonl", "fixed-reboot.jsonl")
	checkVerifyPasses(t, h, "every stop passes: smart-proxy.service 0.014s, clean")
}

// A clean stop with no connection in flight at the reboot passes the gate
// of min_in_flight 0, marked as proving nothing.
func TestVerifyMarksAnIdleStop(t *testing.T) {
	h := rebootableHost(t, "h1", "buggy-reboot.jsonl", "fixed-reboot.jsonl")
	h.answers["inflight"] = ok("inflight 0 0\n")
	checkVerifyPasses(t, h, "every stop passes: smart-proxy.service 0.014s, clean, idle: proves nothing")
}

// checkVerifyPasses rolls out to h with the reboot and a settle wait, and
// checks that h passes the verify step with message want.
func checkVerifyPasses(t *testing.T, h *scriptedHost, want string) {
	t.Helper()
	settle := 50 * time.Millisecond
	s, rec := rollWithReboot(t, inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 1}, MaxParallel: 1, Settle: settle}, h)
	if res := s.Hosts[0]; res.Status != StatusOK {
		t.Fatalf("h1: %s at %s: %s\n%s", res.Status, res.Step, res.Error, rec.trail("h1"))
	}
	if tr := rec.trail("h1"); !strings.Contains(tr, "restart:done settle:start settle:done reboot:start") ||
		!strings.HasSuffix(tr, "journal:done verify:start verify:done run:done") {
		t.Errorf("h1 events: %s", tr)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.events {
		if e.Step == StepSettle && e.Phase == PhaseDone && e.Duration < settle {
			t.Errorf("settle took %s, want at least %s", e.Duration, settle)
		}
		if e.Step == StepVerify && e.Phase == PhaseDone && e.Message != want {
			t.Errorf("verify says %q, want %q", e.Message, want)
		}
	}
}

// A host that does not come back from its reboot cannot be rolled back:
// on_failure rollback says so, and what is left to do, rather than try.
func TestHostNotBackIsNotRolledBack(t *testing.T) {
	h := rebootableHost(t, "h1", "buggy-reboot.jsonl", "fixed-reboot.jsonl")
	h.probe = func() error { return errors.New("connection refused") }
	inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1, OnFailure: inventory.OnFailureRollback})
	inv.Rollout.Reboot = true
	inv.Rollout.Timeouts.RebootDown, inv.Rollout.Timeouts.RebootUp = time.Second, 300*time.Millisecond
	rec := &recorder{}
	r, err := newRunner(Options{Inventory: inv, Reporter: rec, Dial: func(context.Context, inventory.Target) (Host, error) { return h, nil }})
	if err != nil {
		t.Fatal(err)
	}
	r.wait = scaledWait(100)
	res := r.roll(context.Background(), r.work(rolloutFlow(r.opts))).Hosts[0]
	want := "host did not come back within 300ms"
	if res.Status != StatusFailed || res.Step != StepReboot || !strings.Contains(res.Error, want) ||
		!strings.HasSuffix(res.Error, "; not rolled back: the host is not back: fleetfix rollback once it is") {
		t.Errorf("h1: %s at %s: %q\n%s", res.Status, res.Step, res.Error, rec.trail("h1"))
	}
	if slices.Contains(h.received(), "restore") {
		t.Errorf("tried to restore a host that is not back: %v", h.received())
	}
}
