package remote

import (
	"bytes"
	"io"
	"strconv"
	"sync"
)

// pidPrefix starts the line in which the login shell writes its PID to
// stderr before it execs the command (see Client.session).
const pidPrefix = "fleetfix-pid "

// pidAnnounce writes that line (scripts/pid-announce.sh).
var pidAnnounce = mustLine("pid-announce.sh")

// maxPreamble bounds what pidFilter holds back looking for the PID line. A
// noisy shell startup file may print before it; beyond this much, give up.
const maxPreamble = 16 << 10

// pidFilter passes a command's stderr on to w, minus the line announcing the
// PID, which it records.
type pidFilter struct {
	w io.Writer

	mu   sync.Mutex
	buf  []byte
	done bool // found, or given up
	pid  int
}

func (p *pidFilter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return p.pass(b)
	}
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			if len(p.buf) > maxPreamble {
				p.done = true
				p.flushLocked()
			}
			return len(b), nil
		}
		line := p.buf[:i]
		if rest, ok := bytes.CutPrefix(line, []byte(pidPrefix)); ok {
			if pid, err := strconv.Atoi(string(rest)); err == nil && pid > 0 {
				p.pid, p.done = pid, true
				p.buf = p.buf[i+1:]
				p.flushLocked()
				return len(b), nil
			}
		}
		// Startup noise before the PID line: pass it on.
		if _, err := p.w.Write(p.buf[:i+1]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
}

// stderrChunk is the read size for a command's stderr, usually just the PID
// line and at most an error message or two.
const stderrChunk = 1 << 10

// ReadFrom makes x/crypto/ssh's io.Copy of the session's stderr use a small
// buffer instead of allocating 32 KiB for every command.
func (p *pidFilter) ReadFrom(r io.Reader) (int64, error) {
	return io.CopyBuffer(writerOnly{p}, r, make([]byte, stderrChunk))
}

// writerOnly hides its Writer's ReadFrom, which io.CopyBuffer would
// otherwise call, recursing.
type writerOnly struct{ io.Writer }

func (p *pidFilter) pass(b []byte) (int, error) {
	if _, err := p.w.Write(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (p *pidFilter) flushLocked() {
	if len(p.buf) > 0 {
		_, _ = p.w.Write(p.buf)
		p.buf = nil
	}
}

// flush passes on anything held back; call it once the command has ended.
func (p *pidFilter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushLocked()
}

// pgid returns the command's process group, or 0 if not known (yet).
func (p *pidFilter) pgid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}
