package main

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
)

// startTestBastion starts n stubs behind a stub bastion holding limit
// handshakes, or skips when the loopback addresses are not there.
func startTestBastion(t *testing.T, n, limit int) (*stubFleet, *stubBastion) {
	t.Helper()
	journal, err := os.ReadFile("../../../journal/testdata/buggy-reboot.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	f, err := startStubFleet(t.TempDir(), n, journal)
	if err != nil {
		t.Skipf("cannot listen on 127.81.0.x:%d: %v", stubPort, err)
	}
	t.Cleanup(f.close)
	b, err := f.startBastion(limit)
	if err != nil {
		t.Skipf("cannot listen on %s:%d: %v", stubBastionAddr, stubPort, err)
	}
	t.Cleanup(b.close)
	return f, b
}

// TestStubBastionScan scans stubs behind a bastion that drops handshakes
// past its limit, with fleetfix's max_startups and connect_retries
// defaults: no host may fail.
func TestStubBastionScan(t *testing.T) {
	tests := []struct{ hosts, limit int }{
		{100, 10}, // OpenSSH's MaxStartups 10:30:100
		{20, 2},   // a bastion set below fleetfix's max_startups default
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.hosts)+"_hosts_limit_"+strconv.Itoa(tt.limit), func(t *testing.T) {
			f, b := startTestBastion(t, tt.hosts, tt.limit)
			path, err := f.writeInventory(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			inv, err := inventory.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			res := fleet.Scan(ctx, fleet.ScanOptions{Inventory: inv, Dial: fleet.RemoteDialer(inv, fleet.ConnectOptions{}), Parallel: 64})
			if len(res) != tt.hosts {
				t.Fatalf("%d results, want %d", len(res), tt.hosts)
			}
			failed := 0
			for _, r := range res {
				if r.Err() != nil {
					failed++
					t.Errorf("%s: %v", r.Host, r.Err())
				} else if len(r.Units) == 0 || !r.Units[0].Killed {
					t.Errorf("%s: units %+v, want smart-proxy.service SIGKILLed", r.Host, r.Units)
				}
			}
			st := b.seen()
			t.Logf("%d host failures; bastion: %d connections, %d dropped, at most %d handshaking, %d channels",
				failed, st.Accepted, st.Dropped, st.PeakStarts, st.Channels)
			if st.Channels < tt.hosts {
				t.Errorf("the bastion forwarded %d channels for %d hosts: the scan went around it", st.Channels, tt.hosts)
			}
		})
	}
}

// TestStubBastionDrops checks the bastion's limit itself: with limit
// connections waiting for their handshake, the next one is closed before
// its banner, as sshd past MaxStartups closes it.
func TestStubBastionDrops(t *testing.T) {
	const limit = 3
	_, b := startTestBastion(t, 2, limit)
	addr := net.JoinHostPort(stubBastionAddr, strconv.Itoa(stubPort))
	banner := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4)
		_, err := c.Read(buf)
		return err == nil && string(buf) == "SSH-"
	}
	for i := range limit + 1 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		if got, want := banner(c), i < limit; got != want {
			t.Fatalf("connection %d of %d with a limit of %d: banner %v, want %v", i+1, limit+1, limit, got, want)
		}
	}
	if st := b.seen(); st.Dropped != 1 || st.PeakStarts != limit {
		t.Errorf("bastion saw %+v, want 1 dropped and %d handshaking at most", st, limit)
	}
}
