//go:build !linux

package remote

import "net"

// quickAck returns conn as it is: TCP_QUICKACK is Linux-only (see
// quickack_linux.go for the stall it avoids there).
func quickAck(conn net.Conn) net.Conn { return conn }
