package tui

import (
	"sync"

	"github.com/fleetfix/fleetfix/fleet"
)

// NewQueue puts an unbounded queue between the engine and the TUI: the
// returned Reporter never blocks (a slow or stalled terminal must not slow
// the rollout), events come out of the channel in the order reported, and
// closeQueue ends the stream: events already queued are still delivered,
// then the channel is closed. Reports after closeQueue are dropped.
//
// Whoever calls closeQueue must keep reading the channel until it is closed
// (or stop caring: the goroutine holding the queue then waits forever).
func NewQueue() (rep fleet.Reporter, events <-chan fleet.Event, closeQueue func()) {
	q := &queue{out: make(chan fleet.Event)}
	q.cond = sync.NewCond(&q.mu)
	go q.pump()
	var once sync.Once
	return q, q.out, func() {
		once.Do(func() {
			q.mu.Lock()
			q.closed = true
			q.mu.Unlock()
			q.cond.Signal()
		})
	}
}

type queue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []fleet.Event
	closed bool
	out    chan fleet.Event
}

// Report appends e; it never waits for a reader.
func (q *queue) Report(e fleet.Event) {
	q.mu.Lock()
	if !q.closed {
		q.buf = append(q.buf, e)
	}
	q.mu.Unlock()
	q.cond.Signal()
}

func (q *queue) pump() {
	defer close(q.out)
	for {
		q.mu.Lock()
		for len(q.buf) == 0 && !q.closed {
			q.cond.Wait()
		}
		if len(q.buf) == 0 {
			q.mu.Unlock()
			return
		}
		batch := q.buf
		q.buf = nil
		q.mu.Unlock()
		for _, e := range batch {
			q.out <- e
		}
	}
}
