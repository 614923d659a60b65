package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/remote"
)

// rebootingHost plays a host through a reboot on a schedule measured from
// the reboot command: sshd stops answering at down, the old boot's sessions
// die at dies, and sshd answers for the new boot from up. It only serves the
// wait logic's tests; the real reboot is tested on lab hosts.
type rebootingHost struct {
	mu             sync.Mutex
	issued         time.Time
	down, dies, up time.Duration
	newKey         bool // the host key changed across the reboot
	connectedNew   bool
	logins         []time.Duration // when Reconnect was called, since issued
	// blipFrom-blipTo: probes time out although the host is up (a loaded
	// machine).
	blipFrom, blipTo time.Duration
	lost             chan struct{}   // the connection from before the reboot ended
	probes           []time.Duration // when Probe was called, since issued
	// cutHealth: that many health checks of the new boot lose the
	// connection under them (a bastion rebooting), which newLost tells.
	cutHealth int
	newLost   chan struct{}
	healths   int // health checks run on the new boot
}

// Lost is closed once the old boot's session has died, as the real
// connection's is: by itself, without the wait touching the host.
func (f *rebootingHost) Lost() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.connectedNew {
		if f.newLost == nil {
			f.newLost = make(chan struct{})
		}
		return f.newLost
	}
	if f.lost == nil {
		f.lost = make(chan struct{})
		go func() {
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Microsecond) {
				f.mu.Lock()
				f.checkLost()
				done := isDone(f.lost)
				f.mu.Unlock()
				if done {
					return
				}
			}
		}()
	}
	return f.lost
}

func (f *rebootingHost) checkLost() {
	if s := f.since(); s >= 0 && s >= f.dies && f.lost != nil && !isDone(f.lost) {
		close(f.lost)
	}
}

const oldID, newID = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"

func (f *rebootingHost) since() time.Duration {
	if f.issued.IsZero() {
		return -1
	}
	return time.Since(f.issued)
}

func (f *rebootingHost) Name() string { return "fake" }
func (f *rebootingHost) Run(_ context.Context, argv ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case len(argv) == 3 && argv[0] == "systemctl" && argv[2] == "reboot":
		f.issued = time.Now()
		return nil, nil
	case argv[0] == "cat" && len(argv) == 2: // boot id over the open connection
		if f.connectedNew {
			return []byte(newID + "\n"), nil
		}
		if s := f.since(); s >= 0 && s >= f.dies {
			return nil, errors.New("session closed")
		}
		return []byte(oldID + "\n"), nil
	case argv[0] == "cat": // boot id and uptime after a login
		if f.connectedNew {
			return []byte(newID + "\n5.250 1.0\n"), nil
		}
		return []byte(oldID + "\n100.0 1.0\n"), nil
	case argv[0] == "journalctl":
		return []byte(`{"__MONOTONIC_TIMESTAMP":"5100000","MESSAGE_ID":"39f53479d3a045ac8e11786248231fbf"}` + "\n"), nil
	case len(argv) > 3 && argv[3] == "fleetfix-health":
		if f.connectedNew {
			f.healths++
		}
		if f.cutHealth > 0 && f.connectedNew {
			f.cutHealth--
			if f.newLost != nil {
				close(f.newLost)
			}
			f.newLost, f.connectedNew = nil, false
			return nil, errors.New("wait: remote command exited without exit status or exit signal")
		}
		return nil, nil
	case argv[0] == "systemctl" || isReadOnlyScript(argv):
		return nil, nil
	}
	return nil, fmt.Errorf("unexpected %v", argv)
}
func (f *rebootingHost) RunInput(ctx context.Context, _ []byte, argv ...string) ([]byte, error) {
	return f.Run(ctx, argv...)
}
func (f *rebootingHost) Upload(context.Context, io.Reader, string, fs.FileMode, string) (string, error) {
	return "", errors.New("no uploads")
}
func (f *rebootingHost) Stat(context.Context, string) (remote.FileInfo, error) {
	return remote.FileInfo{}, errors.New("no stat")
}
func (f *rebootingHost) answering() bool {
	s := f.since()
	return s < f.down || s >= f.up
}
func (f *rebootingHost) Probe(context.Context, time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkLost()
	f.probes = append(f.probes, f.since())
	if s := f.since(); s >= f.blipFrom && s < f.blipTo {
		return errors.New("probe timed out")
	}
	if !f.answering() {
		return errors.New("connection refused")
	}
	return nil
}
func (f *rebootingHost) Reconnect(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.since()
	f.logins = append(f.logins, s)
	switch {
	case !f.answering():
		return errors.New("connection refused")
	case s >= f.up && f.newKey:
		return &remote.HostKeyError{Host: "fake", Addr: "192.0.2.1:22"}
	case s >= f.up:
		f.connectedNew = true
	}
	return nil
}
func (f *rebootingHost) Close() error { return nil }

// rebootCase is a host rebooting on a schedule, waited for under the
// policy's timeouts.
type rebootCase struct {
	name     string
	host     *rebootingHost
	down, up time.Duration // policy timeouts
	wantErr  string
	check    func(t *testing.T, rt *RebootTiming, h *rebootingHost)
}

func TestRebootWait(t *testing.T) {
	for _, tt := range rebootCases() {
		t.Run(tt.name, func(t *testing.T) { checkRebootWait(t, tt) })
	}
}

// rebootCases are TestRebootWait's schedules. They and the wait's own
// intervals run at a fifth of real time (the policy's timeouts, upper
// bounds, in real time): the logic is the same, the test takes seconds less.
func rebootCases() []rebootCase {
	const ms, sec = time.Millisecond / timeScale, time.Second / timeScale
	never := time.Hour
	return []rebootCase{
		{name: "quick reboot", host: &rebootingHost{down: 300 * ms, dies: 250 * ms, up: 700 * ms}, down: 5 * time.Second, up: 5 * time.Second,
			check: func(t *testing.T, rt *RebootTiming, h *rebootingHost) {
				if rt.NewBootID != newID || rt.Down < 250*ms || rt.Down > 600*ms || rt.Back < 700*ms || rt.Back > 1200*ms {
					t.Errorf("timing %+v", rt)
				}
				if rt.Noticed != 150*time.Millisecond {
					t.Errorf("noticed %s, want 150ms (uptime 5.25s - sshd at 5.1s)", rt.Noticed)
				}
				for _, l := range h.logins {
					if l < h.down {
						t.Errorf("logged in at %s, before the host went down", l)
					}
				}
				if len(h.probes) == 0 || h.probes[0] < h.dies {
					t.Errorf("probed at %v, want none while the old connection was open (until %s)", h.probes, h.dies)
				}
			}},
		{name: "slow shutdown: sshd answers for 2.5 s, no login meanwhile", host: &rebootingHost{down: 2500 * ms, dies: 2400 * ms, up: 2800 * ms}, down: 5 * time.Second, up: 5 * time.Second,
			check: func(t *testing.T, rt *RebootTiming, h *rebootingHost) {
				if rt.NewBootID != newID || rt.Down < 2400*ms {
					t.Errorf("timing %+v", rt)
				}
				for _, l := range h.logins {
					if l < 2400*ms {
						t.Errorf("logged in at %s while the old boot was shutting down", l)
					}
				}
				// Passive until downGrace: the old connection is still open.
				if len(h.probes) == 0 || h.probes[0] < 2*sec {
					t.Errorf("probed at %v, want none before %s", h.probes, 2*sec)
				}
			}},
		{name: "outage shorter than a probe: seen by the dead session", host: &rebootingHost{down: never, dies: 300 * ms, up: 0}, down: 5 * time.Second, up: 5 * time.Second,
			check: func(t *testing.T, rt *RebootTiming, h *rebootingHost) {
				if rt.NewBootID != newID {
					t.Errorf("timing %+v", rt)
				}
			}},
		{name: "a probe times out on a loaded host that is still up: not down, no login", host: &rebootingHost{blipFrom: 100 * ms, blipTo: 500 * ms, down: 1500 * ms, dies: 1600 * ms, up: 1900 * ms},
			down: 5 * time.Second, up: 5 * time.Second,
			check: func(t *testing.T, rt *RebootTiming, h *rebootingHost) {
				if rt.NewBootID != newID || rt.Down < 1600*ms {
					t.Errorf("timing %+v", rt)
				}
				for _, l := range h.logins {
					if l < 1900*ms {
						t.Errorf("logged in at %s, before the new boot's sshd", l)
					}
				}
			}},
		{name: "sessions die before sshd stops listening: no login meanwhile", host: &rebootingHost{dies: 200 * ms, down: 700 * ms, up: 1000 * ms},
			down: 5 * time.Second, up: 5 * time.Second,
			check: func(t *testing.T, rt *RebootTiming, h *rebootingHost) {
				if rt.NewBootID != newID || rt.Down < 700*ms || rt.Down > 1200*ms {
					t.Errorf("timing %+v", rt)
				}
				for _, l := range h.logins {
					if l < 1000*ms {
						t.Errorf("logged in at %s, before the new boot's sshd", l)
					}
				}
			}},
		{name: "sshd gone but the connection lingers: down after the grace", host: &rebootingHost{down: 200 * ms, dies: never, up: 5 * sec},
			down: 6 * time.Second, up: 5 * time.Second,
			check: func(t *testing.T, rt *RebootTiming, h *rebootingHost) {
				// A passive wait of downGrace, then downGrace of failing probes.
				if rt.NewBootID != newID || rt.Down < 4*sec || rt.Down > 4800*ms {
					t.Errorf("timing %+v", rt)
				}
			}},
		{name: "never goes down", host: &rebootingHost{down: never, dies: never, up: never}, down: 2500 * ms, up: sec, wantErr: "did not go down within 500ms"},
		{name: "never comes back", host: &rebootingHost{down: 200 * ms, dies: 200 * ms, up: never}, down: sec, up: sec, wantErr: "did not come back within 200ms"},
		{name: "host key changed", host: &rebootingHost{down: 200 * ms, dies: 200 * ms, up: 400 * ms, newKey: true}, down: sec, up: 2 * sec, wantErr: "host key"},
	}
}

// checkRebootWait waits for tt's host to reboot and checks the error or,
// when none is wanted, the timing with tt's check.
func checkRebootWait(t *testing.T, tt rebootCase) {
	t.Helper()
	inv := &inventory.Inventory{Rollout: inventory.DefaultPolicy()}
	inv.Rollout.Timeouts.RebootDown, inv.Rollout.Timeouts.RebootUp = tt.down, tt.up
	r := &runner{opts: Options{Inventory: inv}, wait: scaledWait(timeScale)}
	rt, err := r.reboot(context.Background(), tt.host, &Facts{}, nil)
	if tt.wantErr != "" {
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), tt.wantErr) {
			t.Fatalf("err = %v, want %q", err, tt.wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	tt.check(t, rt, tt.host)
}

// timeScale is how many times faster than real the reboot wait tests run.
const timeScale = 5

// scaledWait is the default reboot wait, k times faster.
func scaledWait(k time.Duration) rebootWait {
	w := defaultRebootWait()
	w.probeInterval /= k
	w.upProbeInterval /= k
	w.probeTimeout /= k
	w.loginInterval /= k
	w.downGrace /= k
	return w
}

// TestRebootChecksAgainAfterALostConnection: the connection goes down
// under the health check of a host that is back (its bastion rebooting):
// the reboot logs in again and checks again, and ends ok.
func TestRebootChecksAgainAfterALostConnection(t *testing.T) {
	const ms = time.Millisecond / timeScale
	inv := &inventory.Inventory{Rollout: inventory.DefaultPolicy(), Services: []inventory.Service{{Unit: "demo.service"}}}
	inv.Rollout.Timeouts.RebootDown, inv.Rollout.Timeouts.RebootUp = 5*time.Second, 5*time.Second
	rec := &recorder{}
	r := &runner{opts: Options{Inventory: inv}, rep: rec, wait: scaledWait(timeScale)}
	h := &rebootingHost{down: 300 * ms, dies: 250 * ms, up: 700 * ms, cutHealth: 1}
	rt, err := r.reboot(context.Background(), h, &Facts{}, nil)
	if err != nil {
		t.Fatalf("reboot: %v", err)
	}
	if rt.NewBootID != newID || h.healths != 2 || len(h.logins) < 2 {
		t.Errorf("boot %s, %d health check(s), logins %v: want the new boot, checked twice, logged in again", rt.NewBootID, h.healths, h.logins)
	}
	if !slices.ContainsFunc(rec.events, func(e Event) bool { return e.Warning && strings.Contains(e.Message, "logging in again") }) {
		t.Errorf("events %+v: want the lost connection told as a warning", rec.events)
	}
}
