package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// With a password, sudo reads it from stdin and the command then inherits the
// rest of stdin. If sudo decides not to ask (a NOPASSWD rule, even one for
// just this command), the password line would go to the command instead:
// `cat` would print it. So the command runs under a guard shell that first
// reads one line and only execs the command if that line is sudoMarker, i.e.
// if sudo consumed exactly the password line before it. sudo reads the
// password, and sh's read reads its line, one byte at a time, so neither
// swallows the data behind it.
//
// The marker and the data are sent only once the guard says it runs
// (sudoReady on stderr): sent with the password, a wrong password would make
// sudo read the marker as a second attempt, and pam_faillock count two
// failures per host. When sudo prompts again (sudoPrompt a second time),
// stdin is closed instead, so a wrong password costs one attempt.
const (
	sudoMarker      = "fleetfix-sudo-stdin-follows"
	sudoPrompt      = "fleetfix-sudo-prompt"
	sudoReady       = "fleetfix-sudo-ready"
	sudoGuardStatus = 125 // the exit status in sudoGuard
	sudoGuardMsg    = "fleetfix: sudo did not read the password; command not run"
)

// sudoGuard is the guard shell (scripts/sudo-guard.sh), which speaks
// sudoReady, sudoMarker, sudoGuardMsg and sudoGuardStatus.
var sudoGuard = mustLine("sudo-guard.sh")

// sudoArgv wraps argv to run as root. -k makes sudo ignore a cached
// credential, so it always reads the password line we send instead of
// leaving it on the command's stdin; the -p prompt, a line of its own that
// sudoGate counts and removes, tells a second attempt.
func sudoArgv(argv []string, withPassword bool) []string {
	if !withPassword {
		return append([]string{"sudo", "-n", "--"}, argv...)
	}
	return append([]string{"sudo", "-k", "-S", "-p", sudoPrompt + "\n", "--", "sh", "-c", sudoGuard, "fleetfix-sudo"}, argv...)
}

// sudoStdin is the stdin for sudoArgv(argv, true). The caller clears it after
// use, since it holds the password.
func sudoStdin(password, data []byte) []byte {
	in := make([]byte, 0, len(password)+len(sudoMarker)+2+len(data))
	in = append(in, password...)
	in = append(in, '\n')
	in = append(in, sudoMarker...)
	in = append(in, '\n')
	return append(in, data...)
}

// sudoPassword calls Config.BecomePassword at most once per Client.
type sudoPassword struct {
	get func() ([]byte, error)

	mu     sync.Mutex
	done   bool
	cached []byte
	err    error
}

// password returns the password, or ok=false for NOPASSWD sudo.
func (s *sudoPassword) password() (pw []byte, ok bool, err error) {
	if s.get == nil {
		return nil, false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.done = true
		p, err := s.get()
		switch {
		case err != nil:
			s.err = err
		case bytes.ContainsAny(p, "\n\r\x00"):
			// sudo reads one line; the rest would reach the command.
			s.err = errors.New("password contains a line break or NUL")
		default:
			// A copy: the caller owns p and may hand the same buffer to
			// every host's Client (one prompt per run), so it is not ours to
			// wipe; our copy is wiped by forget.
			s.cached = append([]byte{}, p...) // non-nil even when empty
		}
	}
	return s.cached, s.err == nil, s.err
}

func (s *sudoPassword) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.cached)
	s.cached = nil
	s.done = true
	s.err = errors.New("client closed")
}

// exec runs cmd, through sudo when it is to run as root and the login user
// is not root.
func (c *Client) exec(ctx context.Context, cmd command) ([]byte, error) {
	shown := cmd.shown()
	if !cmd.become || !c.sudoRoot {
		return c.session(ctx, cmd.argv, input{data: cmd.stdin}, shown)
	}
	pw, ok, err := c.sudo.password()
	if err != nil {
		return nil, fmt.Errorf("run %s on %s: become password: %w", CommandName(shown), c.cfg.Name, err)
	}
	if !ok {
		out, err := c.session(ctx, sudoArgv(cmd.argv, false), input{data: cmd.stdin}, shown)
		return out, sudoFailure(err, false)
	}
	in := sudoStdin(pw, cmd.stdin)
	// The password line now, the rest once the guard runs.
	out, err := c.session(ctx, sudoArgv(cmd.argv, true), input{data: in[:len(pw)+1], more: in[len(pw)+1:]}, shown)
	clear(in)
	if guardRefused(err) {
		// sudo did not want the password for this command, and nothing
		// ran: run it the NOPASSWD way.
		out, err = c.session(ctx, sudoArgv(cmd.argv, false), input{data: cmd.stdin}, shown)
		return out, sudoFailure(err, false)
	}
	return out, sudoFailure(err, true)
}

func guardRefused(err error) bool {
	var ee *ExitError
	return errors.As(err, &ee) && ee.Status == sudoGuardStatus &&
		bytes.Contains(ee.Stderr, []byte(sudoGuardMsg))
}

// sudoError is sudo itself refusing to run a command.
type sudoError struct {
	msg  string
	exit *ExitError
}

func (e *sudoError) Error() string {
	s := fmt.Sprintf("%s: %s (running %s)", e.exit.Host, e.msg, CommandName(e.exit.Argv))
	if said := firstLine(e.exit.Stderr); said != "" {
		s += "; sudo said: " + said
	}
	return s
}

// Detail is the ExitError's, for a verbose log.
func (e *sudoError) Detail() string { return e.exit.Detail() }

func (e *sudoError) Unwrap() error { return e.exit }

// sudoFailure turns an exit of sudo itself (status 1 with one of its
// messages, which never contain the password) into a clear error. A command
// that exits 1 printing the same text is misread; the message says so by
// quoting sudo's words.
func sudoFailure(err error, withPassword bool) error {
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Status != 1 {
		return err
	}
	said := string(ee.Stderr)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(said, s) {
				return true
			}
		}
		return false
	}
	notAllowed := has("is not in the sudoers file", "is not allowed to execute", "may not run sudo")
	switch {
	case withPassword && (notAllowed || has("incorrect password attempt", "Sorry, try again")):
		return &sudoError{msg: "sudo: wrong password or user not allowed", exit: ee}
	case !withPassword && has("a password is required"):
		return &sudoError{msg: "sudo: a password is required but none is configured (give a become password or allow NOPASSWD sudo)", exit: ee}
	case notAllowed:
		return &sudoError{msg: "sudo: user not allowed", exit: ee}
	}
	return err
}
