package fleet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fleetfix/fleetfix/remote"
)

// scriptedHost is a programmable fake host for the error branches of the
// steps that change a host: it answers each remote script by its name (and
// each plain command by argv[0]) with the handler a test sets, and records
// every call, so a test can check what was received. What the steps do to
// a real host is proven on lab hosts; this proves what the runner makes of
// each answer.
type scriptedHost struct {
	name    string
	mu      sync.Mutex
	answers map[string]answer
	calls   []call
	// upload answers Upload; nil writes the content and returns its sha256.
	upload func(dst string, content []byte) (string, error)
	// lost is Lost's channel: close it to lose the connection.
	lost chan struct{}
	// probe answers Probe; nil: sshd always answers.
	probe func() error
	// reconnect answers Reconnect; nil: always reconnected.
	reconnect func() error
	// stat answers Stat; nil: an error.
	stat func(path string) (remote.FileInfo, error)
}

// call is one command the host received.
type call struct {
	name  string // the script's name ("backup"), or the command ("systemctl")
	args  []string
	stdin []byte
}

type answer func(c call) ([]byte, error)

func (f *scriptedHost) Name() string { return f.name }

func (f *scriptedHost) Run(ctx context.Context, argv ...string) ([]byte, error) {
	return f.RunInput(ctx, nil, argv...)
}

func (f *scriptedHost) RunInput(_ context.Context, stdin []byte, argv ...string) ([]byte, error) {
	c := call{name: argv[0], args: argv[1:], stdin: stdin}
	if len(argv) > 3 && (argv[0] == "sh" || argv[0] == "bash") && argv[1] == "-c" {
		c.name, c.args = strings.TrimPrefix(argv[3], "fleetfix-"), argv[4:]
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	a, ok := f.answers[c.name]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("scripted host: unexpected %s %q", c.name, c.args)
	}
	return a(c)
}

func (f *scriptedHost) Upload(_ context.Context, r io.Reader, dst string, _ fs.FileMode, _ string) (string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	f.calls = append(f.calls, call{name: "upload", args: []string{dst}, stdin: b})
	up := f.upload
	f.mu.Unlock()
	if up != nil {
		return up(dst, b)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func (f *scriptedHost) Stat(_ context.Context, path string) (remote.FileInfo, error) {
	if f.stat != nil {
		return f.stat(path)
	}
	return remote.FileInfo{}, errors.New("scripted host: no stat")
}
func (f *scriptedHost) Probe(context.Context, time.Duration) error {
	f.mu.Lock()
	p := f.probe
	f.mu.Unlock()
	if p != nil {
		return p()
	}
	return nil
}
func (f *scriptedHost) Reconnect(context.Context) error {
	f.mu.Lock()
	f.calls = append(f.calls, call{name: "reconnect"})
	r := f.reconnect
	f.mu.Unlock()
	if r != nil {
		return r()
	}
	return nil
}
func (f *scriptedHost) Lost() <-chan struct{} { return f.lost }
func (f *scriptedHost) Close() error          { return nil }

// received lists the names of the calls received, in order.
func (f *scriptedHost) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for _, c := range f.calls {
		names = append(names, c.name)
	}
	return names
}

// saves returns the manifests the host was sent, decoded, with each save's
// lock argument ("lock", "unlock" or "").
func (f *scriptedHost) saves() (ms []*Manifest, locks []string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		if c.name != "save-manifest" {
			continue
		}
		id := strings.TrimSuffix(c.args[0][strings.LastIndexByte(c.args[0], '/')+1:], ".json")
		m, err := decodeManifest(c.stdin, id, f.name)
		if err != nil {
			return nil, nil, err
		}
		lock := ""
		if len(c.args) > 2 {
			lock = c.args[2]
		}
		ms, locks = append(ms, m), append(locks, lock)
	}
	return ms, locks, nil
}

func ok(out string) answer {
	return func(call) ([]byte, error) { return []byte(out), nil }
}

func fails(out string, status int) answer {
	return func(call) ([]byte, error) { return []byte(out), exitErr{status: status, stderr: out} }
}

// outdatedHost is a host whose every target file differs from the
// inventory's (old content "old"), every unit loaded and active, with no
// earlier run: a rollout has everything to do, and each step succeeds.
func outdatedHost(name string) *scriptedHost {
	old := sha256.Sum256([]byte("old"))
	return &scriptedHost{name: name, answers: map[string]answer{
		"preflight": func(c call) ([]byte, error) {
			var b bytes.Buffer
			b.WriteString("fact systemd=yes\nfact journal=persistent\nfact uid=0\nfact systemd_version=252\n")
			n := 0
			if _, err := fmt.Sscan(c.args[1], &n); err != nil {
				return nil, err
			}
			for i := range n {
				fmt.Fprintf(&b, "unit %d\nprop LoadState=loaded\nprop ActiveState=active\n", i)
			}
			for i := range slices.Collect(slices.Chunk(c.args[2+n:], 2)) {
				fmt.Fprintf(&b, "stat %d 81ed root root 3\nsha256 %d %s\navail %d 1000000\n", i, i, hex.EncodeToString(old[:]), i)
			}
			return b.Bytes(), nil
		},
		"save-manifest": ok(""),
		"unlock":        ok(""),
		"backup":        ok("made\n"),
		"reload": func(c call) ([]byte, error) {
			return []byte(strings.Repeat("fleetfix-unit\nLoadState=loaded\n", len(c.args))), nil
		},
		"restart":         ok("inflight 0 2\nsince 1764000000.000000\nstopped 0 1\n"),
		"health":          ok(""),
		"restart-journal": ok(""),
	}}
}
