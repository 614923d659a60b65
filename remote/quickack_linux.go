package remote

import (
	"net"
	"syscall"
)

type quickAckTCP struct {
	*net.TCPConn
	raw syscall.RawConn
}

func quickAckConn(conn net.Conn) net.Conn {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return conn
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return conn
	}
	return &quickAckTCP{TCPConn: tc, raw: raw}
}

func (c *quickAckTCP) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	if n > 0 {
		// Best effort: a failure only brings the delayed ACKs back.
		_ = c.raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
	return n, err
}
