package fleet

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
)

// runner holds what every host's work shares; nothing in it changes once
// the run has started, except through the mutex-guarded halt state.
type runner struct {
	opts  Options
	runID string
	// shares are the inventory's hosts' own services and files, by host.
	shares map[string]*hostShare
	// artifacts are the artifacts' contents and sums, read once for the
	// whole fleet, by local path.
	artifacts map[string]fileTarget
	rep       Reporter
	wait      rebootWait
	self      controller // this process, as the host locks name it
	// lease is the host locks' lease (the policy's LockLease): renewed
	// every third of it while a run holds a lock; a lock whose lease ran
	// out is taken over by the next run, as is one whose controller is
	// this machine and whose process is gone.
	lease time.Duration

	mu      sync.Mutex
	halted  bool
	haltCh  chan struct{}
	haltErr error
}

// hostShare is what one host is given: the services that select it, with
// its overrides applied, and the files they write.
type hostShare struct {
	services []inventory.Service
	targets  []fileTarget
	content  map[string][]byte // remote path -> new content
}

func newRunner(o Options) (*runner, error) {
	if o.Inventory == nil || o.Dial == nil {
		return nil, errors.New("rollout: inventory and dialer are required")
	}
	if o.Reporter == nil {
		o.Reporter = ReporterFunc(func(Event) {})
	}
	if o.RunID == "" {
		o.RunID = NewRunID(time.Now())
	}
	if !ValidRunID(o.RunID) {
		return nil, fmt.Errorf("run id %q: want YYYYMMDD_HHMMSS", o.RunID)
	}
	r := &runner{opts: o, runID: o.RunID, shares: map[string]*hostShare{}, artifacts: map[string]fileTarget{}, rep: o.Reporter, wait: defaultRebootWait(), haltCh: make(chan struct{}),
		self: thisController(), lease: o.Inventory.Rollout.LockLease}
	if r.lease <= 0 {
		r.lease = inventory.DefaultLockLease
	}
	for _, svc := range o.Inventory.Services {
		arts := slices.Clone(svc.Artifacts)
		for _, ov := range svc.Overrides {
			arts = append(arts, ov.Artifacts...)
		}
		for _, a := range arts {
			if _, read := r.artifacts[a.Src]; read {
				continue
			}
			b, err := os.ReadFile(a.Src)
			if err != nil {
				return nil, fmt.Errorf("artifact %s: %w", a.Src, err)
			}
			r.artifacts[a.Src] = withSum(fileTarget{Content: b})
		}
	}
	// Hosts with the same selection share one: a large uniform fleet
	// resolves its services once.
	bySelection := map[string]*hostShare{}
	for _, t := range o.Inventory.Hosts {
		sel := o.Inventory.Selection(t)
		if bySelection[sel] == nil {
			bySelection[sel] = r.newShare(t)
		}
		r.shares[t.Name] = bySelection[sel]
	}
	return r, nil
}

// share returns host's services and files; a host the inventory does not
// name gets the services that select every host.
func (r *runner) share(host string) *hostShare {
	if w, ok := r.shares[host]; ok {
		return w
	}
	return r.newShare(inventory.Target{Name: host})
}

func (r *runner) newShare(t inventory.Target) *hostShare {
	w := &hostShare{services: r.opts.Inventory.ServicesOf(t), content: map[string][]byte{}}
	for _, svc := range w.services {
		for _, a := range svc.Artifacts {
			read := r.artifacts[a.Src]
			w.add(fileTarget{Kind: "artifact", Unit: svc.Unit, Path: a.Dest, Content: read.Content, SHA256: read.SHA256, Mode: a.Mode, Owner: a.Owner})
		}
		if len(svc.DropIn.Settings) > 0 {
			mode := os.FileMode(0o644)
			w.add(withSum(fileTarget{Kind: "dropin", Unit: svc.Unit, Path: svc.DropIn.Path(svc.Unit), Content: svc.DropIn.Render(), Mode: &mode, Owner: "root:root"}))
		}
	}
	return w
}

func withSum(t fileTarget) fileTarget {
	sum := sha256.Sum256(t.Content)
	t.SHA256 = hex.EncodeToString(sum[:])
	return t
}

func (w *hostShare) add(t fileTarget) {
	w.targets = append(w.targets, t)
	w.content[t.Path] = t.Content
}

// units names the host's units, in inventory order.
func (w *hostShare) units() []string {
	units := make([]string, len(w.services))
	for i, svc := range w.services {
		units[i] = svc.Unit
	}
	return units
}

func (r *runner) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	r.rep.Report(e)
}

func (r *runner) info(host string, step Step, warn bool, msg string) {
	r.emit(Event{Host: host, Step: step, Phase: PhaseInfo, Batch: -1, Warning: warn, Message: msg})
}

// errStopped is the halt of a run the operator stopped now (its context
// cancelled).
var errStopped = errors.New("stopped by the operator")

// detail reports, as an informational line (shown with -v), the whole
// remote command and stderr behind err, which err's own one-line text
// leaves out.
func (r *runner) detail(host string, step Step, err error) {
	var d interface{ Detail() string }
	if errors.As(err, &d) {
		r.info(host, step, false, d.Detail())
	}
}

// halt stops the run: no new host starts, in-flight hosts stop at their next
// step boundary.
func (r *runner) halt(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.halted {
		r.halted, r.haltErr = true, err
		close(r.haltCh)
	} else if err == errStopped {
		r.haltErr = err // whatever halted the run first, the operator ended it
	}
}

func (r *runner) isHalted() bool {
	select {
	case <-r.haltCh:
		return true
	case <-r.opts.Halt:
		r.halt(errors.New("aborted by the operator"))
		return true
	default:
		return false
	}
}
