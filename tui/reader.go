package tui

import (
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/fleetfix/fleetfix/fleet"
)

// reader feeds the model from the event stream, one event per tea.Cmd
// (re-armed after each), and accounts for every event it takes: when the
// program ends, an event read but not yet applied (a command still waiting
// on the channel, or a message the ended program never handled) is handed
// back by stop, so the caller can print it. Nothing is lost between the TUI
// and the plain lines that follow it.
type reader struct {
	ch <-chan fleet.Event

	mu      sync.Mutex
	cond    *sync.Cond
	done    chan struct{}
	stopped bool
	active  int // commands reading now
	seq     uint64
	pending []pendingEvent // handed to the program, not applied yet
}

type pendingEvent struct {
	seq uint64
	e   fleet.Event
}

func newReader(ch <-chan fleet.Event) *reader {
	r := &reader{ch: ch, done: make(chan struct{})}
	r.cond = sync.NewCond(&r.mu)
	return r
}

// next is the command that reads one event.
func (r *reader) next() tea.Cmd {
	if r == nil || r.ch == nil {
		return nil
	}
	return func() tea.Msg {
		r.mu.Lock()
		if r.stopped {
			r.mu.Unlock()
			return nil
		}
		r.active++
		r.mu.Unlock()
		defer func() {
			r.mu.Lock()
			r.active--
			r.cond.Broadcast()
			r.mu.Unlock()
		}()
		select {
		case e, ok := <-r.ch:
			if !ok {
				return streamClosedMsg{}
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			r.seq++
			r.pending = append(r.pending, pendingEvent{r.seq, e})
			return eventMsg{e: e, seq: r.seq}
		case <-r.done:
			return nil
		}
	}
}

// applied records that the model has the event.
func (r *reader) applied(seq uint64) {
	if r == nil || seq == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, p := range r.pending {
		if p.seq == seq {
			r.pending = append(r.pending[:i], r.pending[i+1:]...)
			return
		}
	}
}

// stop ends the reading (the program has ended) and returns the events
// taken from the stream but never applied, in order.
func (r *reader) stop() []fleet.Event {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped {
		r.stopped = true
		close(r.done)
	}
	for r.active > 0 {
		r.cond.Wait()
	}
	var out []fleet.Event
	for _, p := range r.pending {
		out = append(out, p.e)
	}
	r.pending = nil
	return out
}
