package fleet

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/inventory"
)

// scanShowOK answers systemctl show for every unit asked, as systemd does.
func scanShowOK(c call) ([]byte, error) {
	var b strings.Builder
	for _, u := range c.args[slices.Index(c.args, "--")+1:] {
		b.WriteString("Id=" + u + "\nTimeoutStopUSec=1min 30s\nKillMode=control-group\nExecStart={ path=/usr/bin/x ; argv[]=/usr/bin/x }\n\n")
	}
	return []byte(b.String()), nil
}

// TestScanThroughTheRunner: each branch of a scan's host ends in one
// ScanResult as the CLI prints it, and in the runner's events: a start
// for each step, the fail at the step that failed, or the journal's done
// and the scan's done with its line.
func TestScanThroughTheRunner(t *testing.T) {
	capture, err := os.ReadFile("../journal/testdata/buggy-reboot.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dial    error
		scan    answer
		show    answer
		stopped bool   // the caller's context is done before the scan: no events checked
		err     string // the result's Error; "" for none
		note    string
		units   int
		trail   string
		message string // in the host's final event
	}{
		{name: "connect fails", dial: errors.New("connection refused"), err: "h1: connect: connection refused",
			trail: "connect:start connect:fail", message: "connection refused"},
		{name: "the journal's read fails", scan: fails("journalctl: boom", 1), err: "h1: journal: read the journal: exited with status 1",
			trail: "connect:start connect:done journal:start journal:fail", message: "read the journal"},
		{name: "systemctl show fails", scan: ok(string(capture)), show: fails("no bus", 1), err: "h1: journal: systemctl show: exited with status 1",
			trail: "connect:start connect:done journal:start journal:fail", message: "systemctl show"},
		{name: "a volatile journal: a note, no error", scan: fails("", volatileStatus), note: volatileNote,
			trail: "connect:start connect:done journal:start journal:done scan:done", message: "no timings: " + volatileNote},
		{name: "the shutdown read", scan: ok(string(capture)), show: scanShowOK, units: 6,
			trail: "connect:start connect:done journal:start journal:done scan:done", message: "shutdown took 5.14s: smart-proxy.service 5.03s, SIGKILLed (TimeoutStopSec 1min 30s, KillMode control-group); systemd-logind.service"},
		{name: "stopped before it started", stopped: true, err: "h1: connect: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &scriptedHost{name: "h1", answers: map[string]answer{"scan": tt.scan, "systemctl": tt.show}}
			inv := fakeInventory(t, 1, inventory.DefaultPolicy())
			rec := &recorder{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.stopped {
				cancel()
			}
			res := Scan(ctx, ScanOptions{Inventory: inv, Reporter: rec, Dial: func(ctx context.Context, _ inventory.Target) (Host, error) {
				if tt.dial != nil {
					return nil, tt.dial
				}
				return h, ctx.Err()
			}})
			if len(res) != 1 {
				t.Fatalf("%d results", len(res))
			}
			r := res[0]
			if r.Host != "h1" || r.Error != tt.err && !strings.HasPrefix(r.Error, tt.err) || (r.Err() != nil) != (tt.err != "") || r.Note != tt.note || len(r.Units) != tt.units {
				t.Errorf("result %+v, want error %q note %q and %d unit(s)", r, tt.err, tt.note, tt.units)
			}
			if tt.stopped {
				return // started or not: each picks at random between a free slot and a done context
			}
			if got := rec.trail("h1"); got != tt.trail {
				t.Errorf("events %q, want %q", got, tt.trail)
			}
			var last Event
			for _, e := range rec.events {
				if e.Host == "h1" {
					last = e
				}
			}
			if last.Result == nil || !strings.Contains(last.Message, tt.message) || (last.Phase == PhaseFail) != (tt.err != "") {
				t.Errorf("final event %+v, want its message to hold %q", last, tt.message)
			}
		})
	}
}

// TestScanStopsWithItsCaller: a scan's step in flight ends when the
// caller's context does, though the runner runs each host detached.
func TestScanStopsWithItsCaller(t *testing.T) {
	inv := fakeInventory(t, 2, inventory.DefaultPolicy())
	ctx, cancel := context.WithCancel(context.Background())
	dialing := make(chan struct{}, 2)
	go func() {
		<-dialing
		cancel()
	}()
	res := Scan(ctx, ScanOptions{Inventory: inv, Parallel: 1, Dial: func(ctx context.Context, _ inventory.Target) (Host, error) {
		dialing <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	for _, r := range res {
		if !errors.Is(r.Err(), context.Canceled) || !strings.HasPrefix(r.Error, r.Host+": connect: ") {
			t.Errorf("%s: %v, want the connect cut off", r.Host, r.Err())
		}
	}
}
