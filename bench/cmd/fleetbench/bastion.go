package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// stubBastionAddr is the stub bastion's address, outside the stubs' range.
const stubBastionAddr = "127.82.0.1"

// stubBastion is a jump host in this process, in front of a stubFleet: it
// forwards direct-tcpip channels to the stubs and, as sshd does past
// MaxStartups 10:30:100, drops (closes before its banner) every new
// connection beyond limit that are not yet authenticated.
type stubBastion struct {
	ln    net.Listener
	cfg   *ssh.ServerConfig
	limit int
	wg    sync.WaitGroup

	mu       sync.Mutex
	starting int // connections accepted and not yet authenticated
	stats    BastionStats
}

// BastionStats are what a stub bastion saw.
type BastionStats struct {
	Limit      int `json:"limit"`       // unauthenticated connections it holds at once
	Accepted   int `json:"accepted"`    // connections that got their banner
	Dropped    int `json:"dropped"`     // connections closed past the limit
	PeakStarts int `json:"peak_starts"` // most unauthenticated connections at once
	Channels   int `json:"channels"`    // direct-tcpip channels forwarded
}

// startBastion starts a stub bastion with the fleet's host key and client
// key, and records its key in the fleet's known_hosts file.
func (f *stubFleet) startBastion(limit int) (*stubBastion, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(stubBastionAddr, strconv.Itoa(stubPort)))
	if err != nil {
		return nil, fmt.Errorf("stub bastion: %w", err)
	}
	line := knownhosts.Line([]string{ln.Addr().String()}, f.hostKey) + "\n"
	kh, err := os.OpenFile(f.kh, os.O_WRONLY|os.O_APPEND, 0) //nolint:gosec // G703: the fleet's own known_hosts file
	if err == nil {
		_, err = kh.WriteString(line)
		if cerr := kh.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("stub bastion: %w", err)
	}
	b := &stubBastion{ln: ln, cfg: f.cfg, limit: limit, stats: BastionStats{Limit: limit}}
	b.wg.Add(1)
	go b.serve()
	f.bastion = b
	return b, nil
}

func (b *stubBastion) close() {
	_ = b.ln.Close() // ends serve; the connections end with their clients
	b.wg.Wait()
}

// seen returns the stats so far.
func (b *stubBastion) seen() BastionStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

func (b *stubBastion) serve() {
	defer b.wg.Done()
	for {
		nc, err := b.ln.Accept()
		if err != nil {
			return
		}
		if !b.admit() {
			_ = nc.Close() // sshd's drop: closed before the banner
			continue
		}
		go b.conn(nc)
	}
}

// admit takes a start slot for a new connection, or counts it dropped.
func (b *stubBastion) admit() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.starting >= b.limit {
		b.stats.Dropped++
		return false
	}
	b.starting++
	b.stats.Accepted++
	b.stats.PeakStarts = max(b.stats.PeakStarts, b.starting)
	return true
}

func (b *stubBastion) conn(nc net.Conn) {
	defer func() { _ = nc.Close() }()
	sc, chans, reqs, err := ssh.NewServerConn(nc, b.cfg)
	b.mu.Lock()
	b.starting--
	b.mu.Unlock()
	if err != nil {
		return
	}
	defer func() { _ = sc.Close() }()
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		go b.forward(nch)
	}
}

// forward carries one direct-tcpip channel to the address it asks for.
func (b *stubBastion) forward(nch ssh.NewChannel) {
	if nch.ChannelType() != "direct-tcpip" {
		_ = nch.Reject(ssh.UnknownChannelType, "direct-tcpip only")
		return
	}
	var to struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := ssh.Unmarshal(nch.ExtraData(), &to); err != nil {
		_ = nch.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	tc, err := net.Dial("tcp", net.JoinHostPort(to.Host, strconv.Itoa(int(to.Port))))
	if err != nil {
		_ = nch.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, creqs, err := nch.Accept()
	if err != nil {
		_ = tc.Close()
		return
	}
	b.mu.Lock()
	b.stats.Channels++
	b.mu.Unlock()
	go ssh.DiscardRequests(creqs)
	// Either side hanging up ends the forward; errors are the client's.
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(tc, ch); done <- struct{}{} }()
	go func() { _, _ = io.Copy(ch, tc); done <- struct{}{} }()
	<-done
	_ = tc.Close()
	_ = ch.Close()
	<-done
}

// stubBastionBench scans n stub hosts behind one stub bastion that drops
// handshakes beyond -stub-bastion-limit, -scan-runs times, with fleetfix's
// max_startups and connect_retries defaults.
func (b *bench) stubBastionBench(ctx context.Context, n int) error {
	dir := filepath.Join(b.c.out, fmt.Sprintf("stub-bastion-%d", n))
	f, err := b.startStubs(dir, n)
	if err != nil {
		return err
	}
	defer f.close()
	bastion, err := f.startBastion(b.c.bastionLimit)
	if err != nil {
		return err
	}
	defer bastion.close()
	invPath, err := f.writeInventory(dir)
	if err != nil {
		return err
	}
	for r := 1; r <= b.c.scanRuns; r++ {
		name := fmt.Sprintf("scan%d", r)
		before := bastion.seen()
		cpu0 := selfCPU()
		u, err := b.runMeasured(ctx, dir, name, []string{b.c.fleetfix, "scan", invPath, "-o", "json", "--no-ssh-config"}, nil, false)
		if err != nil {
			return err
		}
		sr := ScanRun{Hosts: n, Run: r, Stub: true, Usage: u, StubCPU: selfCPU() - cpu0}
		sr.Usage.HostsCPU = 0
		countScan(&sr, filepath.Join(dir, name+".out"))
		st := bastion.seen()
		st.Accepted -= before.Accepted
		st.Dropped -= before.Dropped
		st.Channels -= before.Channels
		sr.Bastion = &st
		b.res.Scans = append(b.res.Scans, sr)
		logf("stub scan %d hosts behind a bastion dropping handshakes beyond %d, run %d: wall %.2fs, CPU %.2fs, %d host failures; bastion: %d connections, %d dropped, at most %d handshaking, %d channels",
			n, st.Limit, r, u.Wall.Seconds(), u.CPU().Seconds(), sr.Errors, st.Accepted, st.Dropped, st.PeakStarts, st.Channels)
		if sr.Errors > 0 || sr.Killed != n || sr.Usage.Exit != 0 {
			return fmt.Errorf("stub bastion scan run %d: %d host failures, %d of %d SIGKILLed stops found, exit %d (see %s)",
				r, sr.Errors, sr.Killed, n, sr.Usage.Exit, dir)
		}
	}
	return nil
}

// bastionInventory makes inv, an inventory of the stubs, reach them all
// through the stub bastion.
func bastionInventory(inv []byte) []byte {
	s := strings.Replace(string(inv), "defaults:\n", "defaults:\n  proxy_jump: bastion1\n", 1)
	return []byte(strings.Replace(s, "\nhosts:\n", "\nbastions:\n  - name: bastion1\n    address: "+stubBastionAddr+"\nhosts:\n", 1))
}
