package fleet

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/remote"
)

// TestUnlock: each branch of an unlock ends the host in the runner's
// result and one final event, whose message is the host's line.
func TestUnlock(t *testing.T) {
	other := controller{host: "elsewhere", pid: 7, start: "1", boot: "x"}
	const holder = "locked by run 20261130_100000 (controller elsewhere pid 7, since "
	tests := []struct {
		name     string
		expired  bool
		unlocked bool // the host has no lock
		force    bool
		gone     bool // the holder's manifest is not on the host
		dial     error
		answers  map[string]answer
		status   Status
		step     Step   // the step failed at
		msg      string // the final event's message starts so ...
		ends     string // ... and ends so
		err      error
		removed  bool // the host received the lock's removal
		marked   bool // the holder's run was sent to the host marked interrupted
	}{
		{name: "not locked", unlocked: true, status: StatusUnchanged, msg: "not locked"},
		{name: "a live lease is refused", status: StatusFailed, step: StepUnlock, msg: holder, ends: "left): refused: " + ErrLeaseLive.Error(), err: ErrLeaseLive},
		{name: "a live lease, forced", force: true, status: StatusOK, msg: holder, ends: ": removed; run 20261130_100000 marked interrupted", removed: true, marked: true},
		{name: "an expired lease", expired: true, status: StatusOK, msg: holder, ends: "ago): removed; run 20261130_100000 marked interrupted", removed: true, marked: true},
		{name: "its manifest gone: removed, nothing to mark", force: true, gone: true, status: StatusOK, msg: holder, ends: ": removed", removed: true},
		{name: "connect fails", dial: errors.New("connection refused"), status: StatusFailed, step: StepConnect, msg: "connection refused"},
		{name: "the lock cannot be read", answers: map[string]answer{"lock-show": fails("no such dir", 2)}, status: StatusFailed, step: StepUnlock, msg: "read the lock: "},
		{name: "the lock cannot be removed", force: true, answers: map[string]answer{"unlock": fails("read-only", 1)},
			status: StatusFailed, step: StepUnlock, msg: holder, ends: ": remove the lock: exited with status 1: read-only", removed: true},
		{name: "its run cannot be marked", force: true, answers: map[string]answer{"save-manifest": fails("disk full", 1)}, status: StatusFailed, step: StepUnlock,
			msg: holder, ends: ": removed: lock removed, but run 20261130_100000 could not be marked interrupted: write manifest: exited with status 1: disk full", removed: true, marked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := staleLockHost(t, other, tt.expired)
			if tt.unlocked {
				h.answers["lock-show"] = ok("")
			}
			if tt.gone {
				h.answers["cat"] = fails("cat: no such file", 1)
				h.stat = func(string) (remote.FileInfo, error) { return remote.FileInfo{}, nil }
			}
			for name, a := range tt.answers {
				h.answers[name] = a
			}
			rec := &recorder{}
			inv := fakeInventory(t, 1, inventory.DefaultPolicy())
			s, err := Unlock(context.Background(), UnlockOptions{Inventory: inv, Reporter: rec, Force: tt.force,
				Dial: func(context.Context, inventory.Target) (Host, error) { return h, tt.dial }})
			if err != nil {
				t.Fatal(err)
			}
			res := s.Hosts[0]
			if res.Status != tt.status || res.Step != tt.step || tt.err != nil && !errors.Is(res.Err(), tt.err) || (res.Err() != nil) != (tt.step != "") {
				t.Errorf("result %+v, want %s at %q", res, tt.status, tt.step)
			}
			var final *Event
			for i, e := range rec.events {
				if e.Result != nil {
					if final != nil {
						t.Errorf("a second final event %+v", e)
					}
					final = &rec.events[i]
				}
			}
			if final == nil || !strings.HasPrefix(final.Message, tt.msg) || !strings.HasSuffix(final.Message, tt.ends) {
				t.Fatalf("final event %+v, want a message %q...%q", final, tt.msg, tt.ends)
			}
			if want := map[bool]Step{true: tt.step, false: StepUnlock}[tt.step == StepConnect]; final.Step != want {
				t.Errorf("final event at %s, want %s", final.Step, want)
			}
			if removed := slices.Contains(h.received(), "unlock"); removed != tt.removed {
				t.Errorf("host received %v", h.received())
			}
			ms, _, _ := h.saves()
			if marked := len(ms) == 1 && ms[0].State == StateInterrupted; marked != tt.marked {
				t.Errorf("saves %+v, want the run marked interrupted: %v", ms, tt.marked)
			}
		})
	}
}

// TestUnlockInParallel: hosts are unlocked up to the policy's
// max_parallel at once, never more, each reported in the summary in
// target order.
func TestUnlockInParallel(t *testing.T) {
	const n, slots = 6, 3
	inv := fakeInventory(t, n, inventory.Policy{MaxParallel: slots})
	var mu sync.Mutex
	cur, most := 0, 0
	full := make(chan struct{})
	var once sync.Once
	s, err := Unlock(context.Background(), UnlockOptions{Inventory: inv, Dial: func(_ context.Context, t inventory.Target) (Host, error) {
		mu.Lock()
		cur++
		most = max(most, cur)
		if cur == slots {
			once.Do(func() { close(full) })
		}
		mu.Unlock()
		select {
		case <-full:
		case <-time.After(2 * time.Second):
		}
		mu.Lock()
		cur--
		mu.Unlock()
		return &scriptedHost{name: t.Name, answers: map[string]answer{"lock-show": ok("")}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if most != slots {
		t.Errorf("%d hosts at once, want %d", most, slots)
	}
	for i, h := range s.Hosts {
		if h.Host != inv.Hosts[i].Name || h.Status != StatusUnchanged {
			t.Errorf("host %d: %+v", i, h)
		}
	}
}

// TestCannotStartIsOnTheStream: an unlock or a scan the engine cannot
// start (no dialer) says so as its one run-wide fail event, as every
// command does.
func TestCannotStartIsOnTheStream(t *testing.T) {
	inv := fakeInventory(t, 1, inventory.DefaultPolicy())
	for _, tt := range []struct {
		step Step
		run  func(rep Reporter)
	}{
		{StepUnlock, func(rep Reporter) {
			_, _ = Unlock(context.Background(), UnlockOptions{Inventory: inv, Targets: inv.Hosts, Reporter: rep})
		}},
		{StepScan, func(rep Reporter) {
			_ = Scan(context.Background(), ScanOptions{Inventory: inv, Targets: inv.Hosts, Reporter: rep})
		}},
	} {
		rec := &recorder{}
		tt.run(rec)
		n := 0
		for _, e := range rec.events {
			if e.Host == "" && e.Step == tt.step && e.Phase == PhaseFail {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d run-wide fail event(s) in %+v, want 1", tt.step, n, rec.events)
		}
	}
}
