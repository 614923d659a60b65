package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fleetfix/fleetfix/lab"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// stubFleet is n SSH servers in this process that answer a scan as a lab
// host would (a real journal capture, systemctl show's format) at almost no
// cost of their own: what a scan costs the controller when the hosts are not
// the bottleneck. On the lab they are: its hosts share the controller's 2
// cores, and each OpenSSH login costs one of them about 31 ms of CPU.
//
// Only the hosts are stubbed: fleetfix runs unchanged, as a child process,
// with its real dialer, host key check, sessions and journal parser.
type stubFleet struct {
	hosts     []lab.Host
	key, kh   string // the client's private key file, the known_hosts file
	hostKey   ssh.PublicKey
	bastion   *stubBastion // nil: the stubs are reached directly
	lns       []net.Listener
	cfg       *ssh.ServerConfig
	journal   []byte
	wg        sync.WaitGroup
	unknownMu sync.Mutex
	unknown   []string // commands it had no answer for
}

// stubPort is the stubs' SSH port: each stub has its own loopback address
// (127.81.x.y), as lab hosts have theirs, on a port sshd does not hold.
const stubPort = 22022

// startStubFleet writes a client key and a known_hosts file into dir and
// starts n stubs that serve journal (the stdout of the scan's journal query)
// for every journal read.
func startStubFleet(dir string, n int, journal []byte) (*stubFleet, error) {
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		return nil, err
	}
	clientPub, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(clientPriv, "fleetbench stub fleet")
	if err != nil {
		return nil, err
	}
	f := &stubFleet{key: filepath.Join(dir, "id_ed25519"), kh: filepath.Join(dir, "known_hosts"), journal: journal, hostKey: hostSigner.PublicKey()}
	if err := os.WriteFile(f.key, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	sshPub, err := ssh.NewPublicKey(clientPub)
	if err != nil {
		return nil, err
	}
	want := sshPub.Marshal()
	f.cfg = &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(k.Marshal(), want) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	f.cfg.AddHostKey(hostSigner)
	var kh strings.Builder
	for i := range n {
		addr := fmt.Sprintf("127.81.%d.%d", i/250, i%250+1)
		ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(stubPort)))
		if err != nil {
			f.close()
			return nil, fmt.Errorf("stub %d: %w", i+1, err)
		}
		f.lns = append(f.lns, ln)
		f.hosts = append(f.hosts, lab.Host{Name: fmt.Sprintf("s%d", i+1), Address: addr})
		kh.WriteString(knownhosts.Line([]string{net.JoinHostPort(addr, strconv.Itoa(stubPort))}, hostSigner.PublicKey()) + "\n")
		f.wg.Add(1)
		go f.serve(ln)
	}
	if err := os.WriteFile(f.kh, []byte(kh.String()), 0o644); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

func (f *stubFleet) close() {
	for _, ln := range f.lns {
		_ = ln.Close() // ends its serve loop; nothing else to do
	}
	f.wg.Wait()
}

func (f *stubFleet) serve(ln net.Listener) {
	defer f.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go f.conn(nc)
	}
}

// conn serves one client connection. A stub host answers as well as the
// client lets it: a write or close the client has hung up on is no error of
// the stub's, so those are not checked here or in session.
func (f *stubFleet) conn(nc net.Conn) {
	defer func() { _ = nc.Close() }()
	sc, chans, reqs, err := ssh.NewServerConn(nc, f.cfg)
	if err != nil {
		return
	}
	defer func() { _ = sc.Close() }()
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			return
		}
		go f.session(ch, creqs)
	}
}

func (f *stubFleet) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer func() { _ = ch.Close() }()
	for req := range reqs {
		if req.Type != "exec" || len(req.Payload) < 4 {
			_ = req.Reply(false, nil)
			continue
		}
		n := binary.BigEndian.Uint32(req.Payload)
		if int(n) > len(req.Payload)-4 {
			_ = req.Reply(false, nil)
			return
		}
		_ = req.Reply(true, nil)
		out, status := f.answer(string(req.Payload[4 : 4+n]))
		go func() { _, _ = io.Copy(io.Discard, ch) }() // stdin, if any
		_, _ = ch.Write(out)
		_ = ch.CloseWrite()
		_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}

// stubUnit is a unit name in a command (systemctl show's arguments).
var stubUnit = regexp.MustCompile(`[A-Za-z0-9@._:\\-]+\.(service|socket|scope|mount|target|slice|timer|swap|path|device)`)

// answer is a command's stdout and exit status, as a lab host gives them.
func (f *stubFleet) answer(cmd string) ([]byte, uint32) {
	switch {
	case strings.Contains(cmd, "journalctl"):
		return f.journal, 0
	case strings.Contains(cmd, "'systemctl' 'show'"):
		_, args, _ := strings.Cut(cmd, "'--'")
		var b bytes.Buffer
		for _, u := range stubUnit.FindAllString(args, -1) {
			fmt.Fprintf(&b, "Id=%s\nTimeoutStopUSec=1min 30s\nKillMode=control-group\n\n", u)
		}
		return b.Bytes(), 0
	}
	f.unknownMu.Lock()
	f.unknown = append(f.unknown, cmd)
	f.unknownMu.Unlock()
	return []byte("fleetbench stub: no answer for this command\n"), 127
}

// writeInventory writes an inventory of the stubs into dir and returns its
// path.
func (f *stubFleet) writeInventory(dir string) (string, error) {
	// The inventory needs an artifact to be valid; a scan never reads it.
	art := filepath.Join(dir, "artifact")
	if err := os.WriteFile(art, []byte("not pushed by a scan\n"), 0o644); err != nil {
		return "", err
	}
	inv, err := lab.RenderInventory(lab.InventoryParams{Source: "fleetbench stub fleet", Key: f.key, KnownHosts: f.kh, Hosts: f.hosts, Artifact: art, StopTimeout: "20s", MaxParallel: 1})
	if err != nil {
		return "", err
	}
	inv = bytes.Replace(inv, []byte("defaults:\n"), []byte(fmt.Sprintf("defaults:\n  port: %d\n", stubPort)), 1)
	if f.bastion != nil {
		inv = bastionInventory(inv)
	}
	path := filepath.Join(dir, "inventory.yaml")
	return path, os.WriteFile(path, inv, 0o644)
}

// unanswered returns the commands the stubs had no answer for.
func (f *stubFleet) unanswered() []string {
	f.unknownMu.Lock()
	defer f.unknownMu.Unlock()
	return slices.Clone(f.unknown)
}

// selfCPU is this process's CPU time so far: the stubs' cost, as the
// fleetfix under measurement is a child with its own rusage.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startStubs starts n stubs serving -stub-journal, with their files in
// the directory dir of -out.
func (b *bench) startStubs(dir string, n int) (*stubFleet, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	journal, err := os.ReadFile(b.c.stubJournal)
	if err != nil {
		return nil, fmt.Errorf("stub journal: %w", err)
	}
	return startStubFleet(dir, n, journal)
}

// stubScanBench scans n stub hosts (see stubFleet), -scan-runs times.
func (b *bench) stubScanBench(ctx context.Context, n int) error {
	dir := filepath.Join(b.c.out, fmt.Sprintf("stub-scan-%d", n))
	f, err := b.startStubs(dir, n)
	if err != nil {
		return err
	}
	defer f.close()
	invPath, err := f.writeInventory(dir)
	if err != nil {
		return err
	}
	sshArgs := []string{"--no-ssh-config"}
	if b.c.stubSSHConfig {
		cfg := filepath.Join(dir, "ssh_config")
		if err := os.WriteFile(cfg, []byte(operatorSSHConfig), 0o644); err != nil {
			return err
		}
		sshArgs = []string{"-F", cfg}
	}
	for r := 1; r <= b.c.scanRuns; r++ {
		name := fmt.Sprintf("scan%d", r)
		cpu0 := selfCPU()
		u, err := b.runMeasured(ctx, dir, name, append([]string{b.c.fleetfix, "scan", invPath, "-o", "json"}, sshArgs...), nil, false)
		if err != nil {
			return err
		}
		sr := ScanRun{Hosts: n, Run: r, Stub: true, Usage: u, StubCPU: selfCPU() - cpu0}
		sr.Usage.HostsCPU = 0 // the lab's cgroups are not these hosts
		countScan(&sr, filepath.Join(dir, name+".out"))
		if un := f.unanswered(); len(un) > 0 {
			sr.Note = strings.TrimPrefix(sr.Note+fmt.Sprintf("; %d commands without a stub answer, first: %.200q", len(un), un[0]), "; ")
		}
		b.res.Scans = append(b.res.Scans, sr)
		if sr.Errors > 0 || sr.Killed != n || sr.Usage.Exit != 0 {
			// Every stub serves the same SIGKILLed stop: anything else is
			// the stub failing, not a figure.
			return fmt.Errorf("stub scan run %d: %d errors, %d of %d SIGKILLed stops found, exit %d (see %s)", r, sr.Errors, sr.Killed, n, sr.Usage.Exit, dir)
		}
		logf("stub scan %d hosts, run %d: wall %.2fs, CPU %.2fs (%.3f ms per host), maxrss %d MiB, stubs' CPU %.2fs, %d errors, %d SIGKILLed stops found",
			n, r, u.Wall.Seconds(), u.CPU().Seconds(), float64(u.CPU().Microseconds())/1000/float64(n), u.MaxRSSKiB/1024, sr.StubCPU.Seconds(), sr.Errors, sr.Killed)
	}
	if b.c.profile {
		return b.profileScan(ctx, dir, invPath, n, sshArgs)
	}
	return nil
}

// operatorSSHConfig is an ssh_config as an operator has one: a Host *
// block and a few patterns, none of which matches a stub but every one of
// which each host's lookup walks.
const operatorSSHConfig = `# fleetbench: an operator's ~/.ssh/config
Host bastion-* jump?
    User ops
    IdentityFile ~/.ssh/ops_ed25519
    ForwardAgent no

Host *.prod.example.com !legacy.prod.example.com
    User deploy
    ProxyJump bastion-eu1
    Port 2222

Host db-[0-9]* 10.9.*
    User postgres
    ConnectTimeout 5

Host github.com
    User git
    IdentitiesOnly yes

Host *
    ServerAliveInterval 30
    ServerAliveCountMax 3
    ConnectTimeout 10
    HashKnownHosts yes
    ControlMaster auto
    ControlPath ~/.ssh/cm-%r@%h:%p
    ControlPersist 10m
    AddKeysToAgent yes
`
