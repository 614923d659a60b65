package remote

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"sync"
	"time"
)

// proxyConn is a connection carried by a ProxyCommand's stdin and stdout.
// Closing it kills the command; it has no deadlines, like a connection
// through a jump host (the handshake is bounded by closing it).
type proxyConn struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	addr   string
	tail   *tailBuffer
	done   chan struct{} // closed once the command has been reaped
	err    error         // its exit, once done

	closeOnce sync.Once
}

// dialCommand starts argv with its stderr going to stderr (nil: nowhere
// but the error a failed handshake reports). addr is host:port, for
// RemoteAddr.
func dialCommand(argv []string, stderr io.Writer, addr string) (net.Conn, error) {
	if len(argv) == 0 {
		return nil, errors.New("proxy command: empty")
	}
	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec // G204: the operator's ProxyCommand, split without a shell
	tail := &tailBuffer{max: 512}
	if stderr != nil {
		cmd.Stderr = io.MultiWriter(stderr, tail)
	} else {
		cmd.Stderr = tail
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("proxy command: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("proxy command: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("proxy command %s: %w", argv[0], err)
	}
	c := &proxyConn{cmd: cmd, stdin: stdin, stdout: stdout, addr: addr, tail: tail, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// Read and Write return, at the command's end, why it ended and what it
// said: a handshake that failed on EOF or a broken pipe is otherwise a
// riddle.
func (c *proxyConn) Read(p []byte) (int, error) {
	n, err := c.stdout.Read(p)
	if err == nil || n > 0 {
		return n, err
	}
	return 0, c.ended(err)
}

func (c *proxyConn) Write(p []byte) (int, error) {
	n, err := c.stdin.Write(p)
	if err != nil {
		return n, c.ended(err)
	}
	return n, nil
}

// ended adds the command's exit and the end of its stderr to err, once it
// has exited.
func (c *proxyConn) ended(err error) error {
	select {
	case <-c.done:
	case <-time.After(time.Second):
		return err // the pipe is closed but the command lives on
	}
	why := "exited"
	if c.err != nil {
		why = c.err.Error()
	}
	// Wait has finished copying stderr: the tail is complete and no
	// longer written.
	if msg := bytes.TrimSpace(c.tail.Bytes()); len(msg) > 0 {
		why += ": " + string(msg)
	}
	return fmt.Errorf("proxy command %s %s: %w", c.cmd.Path, why, err)
}

// Close kills the command and reaps it.
func (c *proxyConn) Close() error {
	c.closeOnce.Do(func() {
		_ = c.stdin.Close()
		_ = c.cmd.Process.Kill() // it may have exited already
		<-c.done
	})
	return nil
}

// LocalAddr and RemoteAddr are placeholders: known_hosts is looked up by
// the host's name, and a zero address is not recorded with it.
func (c *proxyConn) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4zero} }
func (c *proxyConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4zero} }

func (c *proxyConn) SetDeadline(time.Time) error      { return nil }
func (c *proxyConn) SetReadDeadline(time.Time) error  { return nil }
func (c *proxyConn) SetWriteDeadline(time.Time) error { return nil }
