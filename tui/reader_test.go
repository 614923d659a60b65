package tui

import (
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
)

// When the program ends, no event the TUI took from the stream is lost: an
// event read but never applied comes back from stop, and a read still
// waiting gives up without taking the next one.
func TestReaderLosesNoEventAtExit(t *testing.T) {
	ch := make(chan fleet.Event, 4)
	r := newReader(ch)
	ch <- fleet.Event{Message: "applied"}
	ch <- fleet.Event{Message: "read, not applied"}
	msg := r.next()().(eventMsg)
	r.applied(msg.seq)
	if msg.e.Message != "applied" {
		t.Fatalf("first read %q", msg.e.Message)
	}
	// Read (the program would get the message) but the program ends first.
	if m := r.next()().(eventMsg); m.e.Message != "read, not applied" {
		t.Fatalf("second read %q", m.e.Message)
	}
	// A third read waits on the empty stream when the program ends.
	waiting := make(chan any)
	go func() { waiting <- r.next()() }()
	time.Sleep(50 * time.Millisecond)
	stopped := make(chan []fleet.Event)
	go func() { stopped <- r.stop() }()
	var unshown []fleet.Event
	select {
	case unshown = <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("stop waited for an event")
	}
	if len(unshown) != 1 || unshown[0].Message != "read, not applied" {
		t.Errorf("unshown %+v", unshown)
	}
	if msg := <-waiting; msg != nil {
		t.Errorf("the waiting read returned %v after stop", msg)
	}
	// What comes next stays in the stream for the caller.
	ch <- fleet.Event{Message: "later"}
	if r.next()() != nil {
		t.Error("a read after stop")
	}
	if e := <-ch; e.Message != "later" {
		t.Errorf("the stream lost %q", e.Message)
	}
	if again := r.stop(); len(again) != 0 {
		t.Errorf("second stop: %v", again)
	}
}
