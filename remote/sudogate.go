package remote

import (
	"bytes"
	"io"
	"sync"
)

// sudoGate watches the stderr of a command run through sudo with a password
// (see sudoArgv) and decides when the rest of its stdin may go: once the
// guard shell announces itself (sudoReady), or never, when sudo prompts a
// second time or says "try again" (the password was wrong; closing stdin
// ends sudo after one attempt). It passes stderr on to w without the prompt
// and ready lines.
type sudoGate struct {
	w io.Writer

	mu      sync.Mutex
	buf     []byte
	prompts int
	decided bool          // ready or refused is closed
	sent    bool          // ready: what follows is the command's stderr
	ready   chan struct{} // closed: send the rest
	refused chan struct{} // closed: send nothing more
}

func newSudoGate(w io.Writer) *sudoGate {
	return &sudoGate{w: w, ready: make(chan struct{}), refused: make(chan struct{})}
}

// wait blocks until the gate decides or stop is closed; true means send.
func (g *sudoGate) wait(stop <-chan struct{}) bool {
	select {
	case <-g.ready:
		return true
	case <-g.refused:
	case <-stop:
	}
	return false
}

func (g *sudoGate) Write(b []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sent && len(g.buf) == 0 {
		// The command's own stderr.
		if _, err := g.w.Write(b); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	g.buf = append(g.buf, b...)
	for !g.sent {
		i := bytes.IndexByte(g.buf, '\n')
		if i < 0 {
			break
		}
		line := g.buf[:i]
		switch {
		case string(line) == sudoReady:
			if !g.decided {
				g.sent = true
				g.decide(g.ready)
			}
		case string(line) == sudoPrompt:
			if g.prompts++; g.prompts > 1 {
				g.decide(g.refused)
			}
		default:
			// A PAM prompt of its own instead of ours: sudo's retry
			// message is the sign.
			if bytes.Contains(line, []byte("try again")) {
				g.decide(g.refused)
			}
			if _, err := g.w.Write(g.buf[:i+1]); err != nil {
				return 0, err
			}
		}
		g.buf = g.buf[i+1:]
	}
	if g.sent || len(g.buf) > maxPreamble {
		// Past the gate, or no line end in sight: not sudo talking.
		g.flushLocked()
	}
	return len(b), nil
}

// decide closes ch, ready or refused, unless the gate has decided.
func (g *sudoGate) decide(ch chan struct{}) {
	if !g.decided {
		g.decided = true
		close(ch)
	}
}

func (g *sudoGate) flushLocked() {
	if len(g.buf) > 0 {
		_, _ = g.w.Write(g.buf)
		g.buf = nil
	}
}

// flush passes on a partial last line; call it once the command has ended.
// A nil gate does nothing.
func (g *sudoGate) flush() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.flushLocked()
}
