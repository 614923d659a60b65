package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// maxStderr bounds the stderr kept per command; the end is kept because that
// is where the error usually is.
const maxStderr = 64 << 10

// killWait bounds how long a cancelled Run waits for the remote kill.
const killWait = 2 * time.Second

// ExitError is a command that ran and exited non-zero (or was killed by a
// signal: Status is then 128+signal number). Its Error is one line, for an
// operator: the cause (stderr's first line) and the command's name; the
// whole command and stderr, often a script of a few kilobytes, are in Argv
// and Stderr, and Detail, for a verbose log.
type ExitError struct {
	Host   string
	Argv   []string
	Status int
	Stderr []byte
}

// maxCause bounds the stderr line Error quotes.
const maxCause = 300

func (e *ExitError) Error() string {
	cause := firstLine(e.Stderr)
	if cause == "" {
		return fmt.Sprintf("%s: %s exited with status %d", e.Host, CommandName(e.Argv), e.Status)
	}
	return fmt.Sprintf("%s: %s (%s exited with status %d)", e.Host, cause, CommandName(e.Argv), e.Status)
}

// Detail is the whole command and its stderr, for a verbose log.
func (e *ExitError) Detail() string {
	msg := fmt.Sprintf("%s: %s exited with status %d", e.Host, QuoteArgs(e.Argv), e.Status)
	if s := strings.TrimSpace(string(e.Stderr)); s != "" {
		msg += "; stderr:\n" + s
	}
	return msg
}

// CommandName names argv in one word: the name a script is run under
// (`sh -c SCRIPT NAME ARGS...`, its $0) or else the program.
func CommandName(argv []string) string {
	switch {
	case len(argv) == 0:
		return "the command"
	case len(argv) >= 4 && argv[1] == "-c":
		return argv[3]
	}
	return argv[0]
}

// firstLine is the first non-blank line of b, trimmed and shortened to
// maxCause bytes.
func firstLine(b []byte) string {
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > maxCause {
				line = line[:maxCause] + "..."
			}
			return line
		}
	}
	return ""
}

// ExitStatus returns the command's exit status.
func (e *ExitError) ExitStatus() int {
	return e.Status
}

// Run runs argv on the host; every element is shell-quoted (never a shell
// string). With Become it runs as root through sudo. Returns stdout. A
// non-zero exit is *ExitError (stderr kept), returned with the stdout there
// was. Cancelling ctx kills the command and its process group, best effort:
// a non-root login cannot kill what it runs through sudo.
func (c *Client) Run(ctx context.Context, argv ...string) ([]byte, error) {
	return c.exec(ctx, command{argv: argv, become: true})
}

// RunInput is Run with data on the command's stdin.
func (c *Client) RunInput(ctx context.Context, stdin []byte, argv ...string) ([]byte, error) {
	return c.exec(ctx, command{argv: argv, stdin: stdin, become: true})
}

// command is one remote command as the package's operations describe it.
type command struct {
	argv    []string
	stdin   []byte
	become  bool     // run as root (through sudo when Config.Become is set)
	display []string // argv shown in errors; default argv
}

func (cmd command) shown() []string {
	if cmd.display != nil {
		return cmd.display
	}
	return cmd.argv
}

// session runs argv exactly as given (no sudo) in a new session on the
// shared connection. Errors show display instead of argv.
//
// The login shell first reports its PID on stderr (filtered out again) and
// then execs argv, so the command runs as that PID, which sshd made a process
// group leader. A cancelled command can then be killed with its children:
// sshd refuses signal requests on root logins (it only honours them from its
// privilege-separated child), so signalling the session alone is not enough.
func (c *Client) session(ctx context.Context, argv []string, in input, display []string) ([]byte, error) {
	fail := func(err error) error {
		return fmt.Errorf("run %s on %s: %w", CommandName(display), c.cfg.Name, err)
	}
	if len(argv) == 0 {
		return nil, fail(errors.New("empty command"))
	}
	for _, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			return nil, fail(errors.New("argument contains a NUL byte"))
		}
	}
	select {
	case c.sessions <- struct{}{}:
	case <-ctx.Done():
		return nil, fail(ctx.Err())
	}
	defer func() { <-c.sessions }()

	conn, err := c.connection()
	if err != nil {
		return nil, fail(err)
	}
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: maxStderr}
	pid := &pidFilter{w: stderr}
	var gate *sudoGate
	if in.more != nil {
		gate = newSudoGate(stderr)
		pid.w = gate
	}
	sess, stdinDone, err := startSession(ctx, conn, pidAnnounce+"; exec "+QuoteArgs(argv), in, gate, &stdout, pid)
	if err != nil {
		return nil, fail(err)
	}
	defer func() {
		_ = sess.Close()
		// The caller may clear stdin (it can hold a sudo password) once we
		// return, so the writer must be done with it; Close unblocks it.
		_ = stdinDone()
	}()
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()

	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done: // finished anyway: report how
		default:
			kill(conn, sess, pid.pgid())
			return nil, fail(ctx.Err())
		}
	}
	pid.flush()
	gate.flush()
	if err == nil {
		// As x/crypto/ssh does with a Stdin it copies: a command that
		// exited 0 but could not be given all its input fails.
		if werr := stdinDone(); werr != nil {
			err = fmt.Errorf("stdin: %w", werr)
		}
	}

	var exitErr *ssh.ExitError
	switch {
	case err == nil:
		return stdout.Bytes(), nil
	case errors.As(err, &exitErr):
		return stdout.Bytes(), &ExitError{
			Host:   c.cfg.Name,
			Argv:   display,
			Status: exitErr.ExitStatus(),
			Stderr: stderr.Bytes(),
		}
	default:
		return nil, fail(err)
	}
}

// startSession opens a session and starts cmd in it. Both are round trips
// that x/crypto cannot cancel and that hang on a dead connection until
// keepalives close it, so they run aside while ctx is watched. A session that
// starts after ctx ended is closed at once, its stdin never written.
//
// stdin is written in the background; stdinDone waits for that (closing the
// session ends a blocked write) and returns its error.
// sessionTries bounds newSession's tries; the last waits 150 ms.
const sessionTries = 5

// newSession opens a session channel, retrying a refusal for a moment:
// sshd can still count a session that has just closed against MaxSessions,
// so an open right after a close is refused ("open failed"; sshd logs "no
// more sessions") with fewer than maxSessions open. Seen under load with
// sshd run as a non-root user: TestRunConcurrent failed there most runs.
func newSession(ctx context.Context, conn *ssh.Client) (*ssh.Session, error) {
	for try := 1; ; try++ {
		sess, err := conn.NewSession()
		var oe *ssh.OpenChannelError
		if err == nil || !errors.As(err, &oe) || oe.Reason != ssh.ConnectionFailed || try == sessionTries {
			return sess, err
		}
		t := time.NewTimer(time.Duration(try*try) * 10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

func startSession(ctx context.Context, conn *ssh.Client, cmd string, stdin input, gate *sudoGate, stdout, stderr io.Writer) (sess *ssh.Session, stdinDone func() error, err error) {
	type result struct {
		sess *ssh.Session
		in   io.WriteCloser
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		sess, err := newSession(ctx, conn)
		if err != nil {
			ch <- result{err: fmt.Errorf("new session: %w", err)}
			return
		}
		// We write stdin ourselves: x/crypto/ssh would copy a Stdin reader
		// through an io.Pipe with a 32 KiB buffer per command. A nil Stdin
		// is EOF right away.
		var in io.WriteCloser
		if len(stdin.data) > 0 {
			if in, err = sess.StdinPipe(); err != nil {
				_ = sess.Close()
				ch <- result{err: fmt.Errorf("stdin: %w", err)}
				return
			}
		}
		sess.Stdout, sess.Stderr = stdout, stderr
		if err := sess.Start(cmd); err != nil {
			_ = sess.Close()
			ch <- result{err: fmt.Errorf("start: %w", err)}
			return
		}
		ch <- result{sess: sess, in: in}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, nil, r.err
		}
		return r.sess, writeStdin(r.in, stdin, gate), nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.sess != nil {
				_ = r.sess.Close()
			}
		}()
		return nil, nil, ctx.Err()
	}
}

// input is a command's stdin: data, written at once, and more, written
// only once the command's sudo let it run (see sudoGate); nil more: none.
type input struct {
	data, more []byte
}

// writeStdin writes stdin to in and closes it, in the background (the
// remote end may not read it all), and returns a function waiting for that.
// Until gate decides, more waits; the returned function stops the wait.
func writeStdin(in io.WriteCloser, stdin input, gate *sudoGate) func() error {
	if in == nil {
		return func() error { return nil }
	}
	done, stop := make(chan error, 1), make(chan struct{})
	go func() {
		_, err := in.Write(stdin.data)
		if err == nil && gate != nil && gate.wait(stop) {
			_, err = in.Write(stdin.more)
		}
		if cerr := in.Close(); err == nil && cerr != io.EOF {
			err = cerr
		}
		done <- err
	}()
	return sync.OnceValue(func() error {
		close(stop)
		return <-done
	})
}

// kill stops a command whose context ended, best effort: a KILL signal
// request (honoured for non-root logins) and, if the process group is known,
// kill(1) from a second session (works for root logins, and for the login
// user's own processes otherwise; not for commands run through sudo by a
// non-root login). The caller then closes the session.
func kill(conn *ssh.Client, sess *ssh.Session, pgid int) {
	_ = sess.Signal(ssh.SIGKILL)
	if pgid <= 1 {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ks, err := conn.NewSession()
		if err != nil {
			return
		}
		// Best effort, like the kill itself: the group may be gone already.
		defer func() { _ = ks.Close() }()
		_ = ks.Run(QuoteArgs([]string{"kill", "-s", "KILL", "--", "-" + strconv.Itoa(pgid)}))
	}()
	t := time.NewTimer(killWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		// The goroutine ends when the connection does: at the latest when
		// keepalives give up on it, or on Close.
	}
}

// tailBuffer is an io.Writer keeping the last max bytes written.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte {
	if len(t.buf) > t.max {
		return t.buf[len(t.buf)-t.max:]
	}
	return t.buf
}
