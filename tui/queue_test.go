package tui

import (
	"fmt"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
)

// The engine reports from its hosts' goroutines: a reporter call must never
// wait for the TUI, even when nobody reads at all.
func TestQueueNeverBlocks(t *testing.T) {
	rep, events, closeQueue := NewQueue()
	const n = 200000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			rep.Report(fleet.Event{Host: "h1", Message: fmt.Sprint(i)})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Report blocked with nobody reading")
	}
	closeQueue()
	closeQueue()                                    // twice is fine
	rep.Report(fleet.Event{Message: "after close"}) // dropped, never blocks
	i := 0
	for e := range events {
		if e.Message != fmt.Sprint(i) {
			t.Fatalf("event %d: %q, out of order", i, e.Message)
		}
		i++
	}
	if i != n {
		t.Errorf("read %d events, want %d", i, n)
	}
}

func TestQueueDeliversWhileOpen(t *testing.T) {
	rep, events, closeQueue := NewQueue()
	defer closeQueue()
	go rep.Report(fleet.Event{Message: "one"})
	select {
	case e := <-events:
		if e.Message != "one" {
			t.Errorf("got %q", e.Message)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an event stayed in the queue")
	}
}
