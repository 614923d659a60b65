package remote

import (
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// startKeepAlive sends keepalive@openssh.com requests on conn every interval
// and closes conn when one goes unanswered for another interval: a host that
// vanished (power loss, dropped route) otherwise leaves a TCP connection that
// hangs every later command until the kernel gives up, which takes minutes
// to hours. The returned stop waits for the goroutine to end; call it only
// after conn is closed (see closeConn).
func startKeepAlive(conn ssh.Conn, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		keepAlive(conn, interval, done)
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}

func keepAlive(conn ssh.Conn, interval time.Duration, done <-chan struct{}) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		go func() {
			// Any reply, even "unsupported", proves the peer is alive.
			_, _, err := conn.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		timeout := time.NewTimer(interval)
		select {
		case err := <-reply:
			timeout.Stop()
			if err != nil {
				_ = conn.Close() // already broken; make it final
				return
			}
		case <-timeout.C:
			_ = conn.Close()
			<-reply //nolint:errcheck // moot once conn is closed, which makes SendRequest return
			return
		case <-done:
			timeout.Stop()
			<-reply //nolint:errcheck // moot: the conn is closed before done is, so this returns
			return
		}
	}
}
