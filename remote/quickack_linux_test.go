package remote

import (
	"net"
	"syscall"
	"testing"
)

func quickAckOpt(t *testing.T, c *net.TCPConn) int {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	if err := raw.Control(func(fd uintptr) {
		v, serr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK)
	}); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return v
}

func setQuickAck(t *testing.T, c *net.TCPConn, v int) {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, v)
	}); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestQuickAckRearmedOnRead: the kernel turns quick ACKs off when traffic
// looks interactive (here forced with TCP_QUICKACK=0); every read through
// the wrapper turns them back on.
func TestQuickAckRearmedOnRead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	srv, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer srv.Close()

	tc := raw.(*net.TCPConn)
	conn := quickAck(raw)
	if conn == raw {
		t.Fatal("quickAck did not wrap a TCP connection")
	}
	buf := make([]byte, 16)
	for i := range 3 {
		setQuickAck(t, tc, 0)
		if got := quickAckOpt(t, tc); got != 0 {
			t.Fatalf("round %d: TCP_QUICKACK = %d after setting 0", i, got)
		}
		if _, err := srv.Write([]byte("banner")); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Read(buf); err != nil {
			t.Fatal(err)
		}
		if got := quickAckOpt(t, tc); got != 1 {
			t.Errorf("round %d: TCP_QUICKACK = %d after a read, want 1", i, got)
		}
	}
}

// TestQuickAckLeavesOtherConns: only TCP connections are wrapped (a
// connection through a jump host is an SSH channel).
func TestQuickAckLeavesOtherConns(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if got := quickAck(a); got != a {
		t.Errorf("quickAck wrapped a %T", a)
	}
}
