package fleet

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/journal"
)

// ScanUnit is a unit of a host's last shutdown, with the settings that
// bound its stop today.
type ScanUnit struct {
	journal.UnitStop
	TimeoutStop string // TimeoutStopUSec as systemctl shows it, e.g. "1min 30s"
	KillMode    string
	// ExecPath is the program of the unit's ExecStart, "" when it has none.
	ExecPath string
	// Listen are the TCP addresses (ADDRESS:PORT, as ss shows them) the
	// unit's processes listen on now, nil when none or ss is missing.
	Listen []string
}

// ScanResult is one host's diagnosis.
type ScanResult struct {
	Host string
	// Shutdown is when the last shutdown started and how long it took; nil
	// with Note saying why when there is none to read.
	ShutdownStart    time.Time
	ShutdownDuration time.Duration
	Note             string
	// Units are the SIGKILLed units first, then the slowest, at most Top.
	Units []ScanUnit
	Error string
	err   error
}

// Err returns the host's error (a *HostError), or nil.
func (s ScanResult) Err() error { return s.err }

// ScanOptions configure a scan.
type ScanOptions struct {
	Inventory *inventory.Inventory
	Targets   []inventory.Target
	Dial      Dialer
	Reporter  Reporter
	Top       int // units reported per host besides the SIGKILLed ones (default 5)
	Parallel  int // hosts scanned at once (default 64)
	// Listen also reads the TCP sockets each reported unit listens on
	// (ScanUnit.Listen), a script more per host: for scan --suggest.
	Listen bool
}

// Scan reads, on every target at once and changing nothing, the last
// shutdown in the journal: the units that were SIGKILLed or slowest to stop,
// with their effective TimeoutStopSec and KillMode. It finds which services
// need the fix before any change. Each host runs the scan flow (connect,
// then the journal's read) through the runner, up to Parallel at once.
func Scan(ctx context.Context, o ScanOptions) []ScanResult {
	if o.Top <= 0 {
		o.Top = 5
	}
	if o.Parallel <= 0 {
		o.Parallel = 64
	}
	inv := hostsOnly(o.Inventory)
	inv.Rollout.MaxParallel = o.Parallel
	targets := o.Targets
	if targets == nil {
		targets = o.Inventory.Hosts
	}
	results := make([]ScanResult, len(targets))
	r, err := newRunner(Options{Inventory: inv, Dial: o.Dial, Reporter: o.Reporter})
	if err != nil {
		_ = cannotStart(o.Reporter, StepScan, err)
		for i, t := range targets {
			results[i] = scanFailed(t.Name, StepConnect, err)
		}
		return results
	}
	got := newPerHost[ScanResult]()
	to := o.Inventory.Rollout.Timeouts
	s := r.each(ctx, targets, nil, to.Connect+to.Journal, scanFlow(o, got))
	for i, h := range s.Hosts {
		results[i] = *got.get(h.Host)
		results[i].Host = h.Host
		var he *HostError
		switch {
		case errors.As(h.Err(), &he):
			results[i].Error, results[i].err = he.Error(), he
		case h.Status == StatusNotStarted:
			results[i] = scanFailed(h.Host, StepConnect, context.Cause(ctx))
		}
	}
	return results
}

// scanFailed is the result of a host that failed at step with err before
// it read anything.
func scanFailed(host string, step Step, err error) ScanResult {
	he := &HostError{Host: host, Step: step, Err: err}
	return ScanResult{Host: host, Error: he.Error(), err: he}
}

// hostsOnly is inv without its services, for a flow that neither writes
// a file nor checks a service (scan, unlock): its runner reads no
// artifact. nil stays nil.
func hostsOnly(inv *inventory.Inventory) *inventory.Inventory {
	if inv == nil {
		return nil
	}
	c := *inv
	c.Services = nil
	return &c
}

// perHost keeps a flow's own outcome of each host, by name, beside the
// HostResult the runner keeps: each host's entry is written only by that
// host's run, and read once every host has ended.
type perHost[T any] struct {
	mu sync.Mutex
	m  map[string]*T
}

func newPerHost[T any]() *perHost[T] { return &perHost[T]{m: map[string]*T{}} }

// get returns host's entry, made empty the first time.
func (p *perHost[T]) get(host string) *T {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.m[host]
	if !ok {
		v = new(T)
		p.m[host] = v
	}
	return v
}

// scanJournal is the scan flow's read of the host: its last shutdown, and
// the stop settings of the units it reports, into res.
func (hr *hostRun) scanJournal(ctx context.Context, o ScanOptions, res *ScanResult) (string, error) {
	var s *journal.Shutdown
	var note string
	out, err := runScript(ctx, hr.h, scriptScan)
	if exitStatus(err) == volatileStatus {
		note = volatileNote
	} else if s, note, err = shutdownFrom(out, err, "no previous boot in the journal"); err != nil {
		return "", err
	}
	if s == nil {
		res.Note = note
		return "", nil
	}
	res.ShutdownStart, res.ShutdownDuration = s.Start, s.Duration
	res.Units, err = scanUnits(ctx, hr.h, s, o.Top, o.Listen)
	return "", err
}

// volatileStatus is scriptScan's exit status for a volatile journal.
const volatileStatus = 99

// scanUnits picks the SIGKILLed units and the top slowest others, and reads
// their stop settings in one systemctl call.
func scanUnits(ctx context.Context, h Host, s *journal.Shutdown, top int, withListen bool) ([]ScanUnit, error) {
	var picked []journal.UnitStop
	for _, u := range s.Units {
		if u.Killed {
			picked = append(picked, u)
		}
	}
	n := 0
	for _, u := range s.Units { // slowest first
		if !u.Killed && n < top {
			picked = append(picked, u)
			n++
		}
	}
	if len(picked) == 0 {
		return nil, nil
	}
	argv := []string{"systemctl", "show", "--no-pager", "-p", "Id", "-p", "TimeoutStopUSec", "-p", "KillMode", "-p", "ExecStart", "--"}
	for _, u := range picked {
		argv = append(argv, u.Unit)
	}
	out, err := h.Run(ctx, argv...)
	if err != nil {
		return nil, fmt.Errorf("systemctl show: %w", err)
	}
	props := map[string]map[string]string{}
	for _, block := range strings.Split(string(out), "\n\n") {
		kv := parseKV([]byte(block), "=")
		if id := kv["Id"]; id != "" {
			props[id] = kv
		}
	}
	listen := make([][]string, len(picked))
	if withListen {
		var err error
		if listen, err = scanListen(ctx, h, picked); err != nil {
			return nil, err
		}
	}
	units := make([]ScanUnit, 0, len(picked))
	for i, u := range picked {
		p := props[u.Unit]
		var exec string
		if m := execPathRE.FindStringSubmatch(p["ExecStart"]); m != nil {
			exec = m[1]
		}
		units = append(units, ScanUnit{UnitStop: u, TimeoutStop: p["TimeoutStopUSec"], KillMode: p["KillMode"], ExecPath: exec, Listen: listen[i]})
	}
	slices.SortStableFunc(units, func(a, b ScanUnit) int {
		if a.Killed != b.Killed {
			if a.Killed {
				return -1
			}
			return 1
		}
		return int(b.Duration - a.Duration)
	})
	return units, nil
}

// execPathRE reads the program of systemctl show's ExecStart value,
// "{ path=/usr/bin/x ; argv[]=/usr/bin/x -f ; ... }".
var execPathRE = regexp.MustCompile(`path=(\S+)`)

// scanListen reads the TCP sockets each unit listens on, by index.
func scanListen(ctx context.Context, h Host, units []journal.UnitStop) ([][]string, error) {
	names := make([]string, len(units))
	for i, u := range units {
		names[i] = u.Unit
	}
	out, err := runScript(ctx, h, scriptListen, names...)
	if err != nil {
		return nil, fmt.Errorf("listening sockets: %w", err)
	}
	listen := make([][]string, len(units))
	for line := range strings.Lines(string(out)) {
		var i int
		var addr string
		if n, _ := fmt.Sscanf(line, "listen %d %s", &i, &addr); n == 2 && i >= 0 && i < len(units) {
			listen[i] = append(listen[i], addr)
		}
	}
	return listen, nil
}

func scanSummary(r ScanResult) string {
	if r.Note != "" {
		return "no timings: " + r.Note
	}
	var parts []string
	for _, u := range r.Units {
		parts = append(parts, fmt.Sprintf("%s %s (TimeoutStopSec %s, KillMode %s)", u.Unit, DescribeStop(&u.UnitStop, ""), u.TimeoutStop, u.KillMode))
	}
	return fmt.Sprintf("shutdown took %s: %s", duration.Format(r.ShutdownDuration), strings.Join(parts, "; "))
}
