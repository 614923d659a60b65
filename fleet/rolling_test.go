package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/remote"
)

func TestBatches(t *testing.T) {
	pct := func(n int) inventory.Amount { return inventory.Amount{N: n, Percent: true} }
	tests := []struct {
		n    int
		p    inventory.Policy
		want [][]int
	}{
		{5, inventory.Policy{Canary: 1, Batch: pct(50)}, [][]int{{0}, {1, 2}, {3, 4}}},
		{5, inventory.Policy{Canary: 0, Batch: inventory.Amount{N: 2}}, [][]int{{0, 1}, {2, 3}, {4}}},
		{3, inventory.Policy{Canary: 2, Batch: pct(100)}, [][]int{{0, 1}, {2}}},
		{2, inventory.Policy{Canary: 5, Batch: pct(10)}, [][]int{{0, 1}}},
		{4, inventory.Policy{Canary: 1, Batch: pct(10)}, [][]int{{0}, {1}, {2}, {3}}},
		{0, inventory.Policy{Canary: 1, Batch: pct(10)}, nil},
	}
	for _, tt := range tests {
		var hosts []inventory.Target
		for i := range tt.n {
			hosts = append(hosts, inventory.Target{Name: fmt.Sprint("h", i), Address: "10.0.0.1"})
		}
		inv := &inventory.Inventory{Hosts: hosts, Rollout: tt.p}
		if got := Batches(inv, nil, hosts); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Batches(%d, canary %d batch %s) = %v, want %v", tt.n, tt.p.Canary, tt.p.Batch, got, tt.want)
		}
	}
}

// fakeHost is already at the target: preflight finds nothing to change.
// It only serves the rolling logic's tests; every step that changes a host
// is tested against the lab.
type fakeHost struct {
	name    string
	targets map[string]string // path -> sha256
}

func (f *fakeHost) Name() string { return f.name }
func (f *fakeHost) Run(_ context.Context, argv ...string) ([]byte, error) {
	switch {
	case isReadOnlyScript(argv) && argv[3] == "fleetfix-facts":
		return []byte("systemd=yes\njournal=persistent\nuid=0\nsystemd_version=252\n"), nil
	case isReadOnlyScript(argv) && argv[3] == "fleetfix-list-runs":
		return nil, nil
	case isReadOnlyScript(argv) && argv[3] == "fleetfix-preflight":
		return f.preflight(argv[4:]), nil
	case argv[0] == "systemctl" && argv[1] == "show":
		return []byte("LoadState=loaded\nActiveState=active\n"), nil
	}
	return nil, fmt.Errorf("fake host: unexpected command %v", argv)
}

// preflight answers scriptPreflight: every unit loaded, every file there
// with its target content, no runs.
func (f *fakeHost) preflight(args []string) []byte {
	out := "fact systemd=yes\nfact journal=persistent\nfact uid=0\nfact systemd_version=252\n"
	n, _ := strconv.Atoi(args[1])
	for i := range n {
		out += fmt.Sprintf("unit %d\nprop LoadState=loaded\nprop ActiveState=active\n", i)
	}
	for i, p := range slices.Collect(slices.Chunk(args[2+n:], 2)) {
		out += fmt.Sprintf("stat %d 81a4 root root 9\nsha256 %d %s\navail %d 1000000\n", i, i, f.targets[p[1]], i)
	}
	return []byte(out)
}

func (f *fakeHost) RunInput(ctx context.Context, _ []byte, argv ...string) ([]byte, error) {
	return f.Run(ctx, argv...)
}
func (f *fakeHost) Upload(context.Context, io.Reader, string, fs.FileMode, string) (string, error) {
	return "", errors.New("fake host: no uploads")
}
func (f *fakeHost) Stat(_ context.Context, p string) (remote.FileInfo, error) {
	return remote.FileInfo{Path: p, Exists: true, Mode: 0o644, Owner: "root", Group: "root", SHA256: f.targets[p]}, nil
}
func (f *fakeHost) Reconnect(context.Context) error            { return nil }
func (f *fakeHost) Probe(context.Context, time.Duration) error { return nil }
func (f *fakeHost) Close() error                               { return nil }
func (f *fakeHost) Lost() <-chan struct{}                      { return nil }

func fakeInventory(t *testing.T, n int, p inventory.Policy) *inventory.Inventory {
	src := filepath.Join(t.TempDir(), "build")
	if err := os.WriteFile(src, []byte("new build"), 0o644); err != nil {
		t.Fatal(err)
	}
	mode := fs.FileMode(0o644)
	inv := &inventory.Inventory{Rollout: p, Services: []inventory.Service{{Unit: "demo.service", Artifacts: []inventory.Artifact{{Src: src, Dest: "/usr/local/bin/demo", Mode: &mode, Owner: "root:root"}}}}}
	inv.Rollout.Timeouts = inventory.DefaultPolicy().Timeouts
	for i := 1; i <= n; i++ {
		inv.Hosts = append(inv.Hosts, inventory.Target{Name: fmt.Sprintf("h%d", i), Address: "192.0.2.1"})
	}
	return inv
}

// rollingCase is a rollout of five hosts under policy, of which the bad ones
// refuse the connection.
type rollingCase struct {
	name   string
	policy inventory.Policy
	bad    []string
	want   string
	halted bool
}

func TestRollingBudgetAndParallelism(t *testing.T) {
	tests := []rollingCase{
		{"all ok", inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 2}, MaxParallel: 2}, nil,
			"h1=unchanged h2=unchanged h3=unchanged h4=unchanged h5=unchanged", false},
		{"canary fails: nothing else starts", inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 2}, MaxParallel: 2, FailureBudget: inventory.Amount{N: 3}}, []string{"h1"},
			"h1=failed h2=not-started h3=not-started h4=not-started h5=not-started", true},
		{"budget 0: the first failure halts after its batch", inventory.Policy{Canary: 0, Batch: inventory.Amount{N: 2}, MaxParallel: 2}, []string{"h2"},
			"h1=unchanged h2=failed h3=not-started h4=not-started h5=not-started", true},
		{"budget 1 absorbs one failure", inventory.Policy{Canary: 0, Batch: inventory.Amount{N: 2}, MaxParallel: 2, FailureBudget: inventory.Amount{N: 1}}, []string{"h3"},
			"h1=unchanged h2=unchanged h3=failed h4=unchanged h5=unchanged", false},
		{"a failed host that stood in for an unchanged canary halts", inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 2}, MaxParallel: 2, FailureBudget: inventory.Amount{N: 1}}, []string{"h3"},
			"h1=unchanged h2=unchanged h3=failed h4=not-started h5=not-started", true},
		{"budget 20% of 5 is 1: a second failure halts", inventory.Policy{Canary: 0, Batch: inventory.Amount{N: 1}, MaxParallel: 1, FailureBudget: inventory.Amount{N: 20, Percent: true}}, []string{"h2", "h3"},
			"h1=unchanged h2=failed h3=failed h4=not-started h5=not-started", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkRolling(t, tt) })
	}
}

// checkRolling rolls tt out and checks each host's status, the halt, the
// parallelism bound and that the canary went first.
func checkRolling(t *testing.T, tt rollingCase) {
	t.Helper()
	inv := fakeInventory(t, 5, tt.policy)
	r, err := newRunner(Options{Inventory: inv, Dial: func(context.Context, inventory.Target) (Host, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, ft := range r.share(inv.Hosts[0].Name).targets {
		sums[ft.Path] = ft.SHA256
	}
	var inFlight, most atomic.Int32
	var mu sync.Mutex
	var order []string
	dial := func(_ context.Context, tg inventory.Target) (Host, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		mu.Lock()
		order = append(order, tg.Name)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		for _, b := range tt.bad {
			if b == tg.Name {
				return nil, errors.New("connection refused")
			}
		}
		return &fakeHost{name: tg.Name, targets: sums}, nil
	}
	s, err := Rollout(context.Background(), Options{Inventory: inv, Dial: dial})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range s.Hosts {
		got = append(got, h.Host+"="+string(h.Status))
		if h.Status == StatusFailed {
			var he *HostError
			if !errors.As(h.Err(), &he) || he.Host != h.Host || he.Step != StepConnect {
				t.Errorf("%s: error %v is not a HostError at connect", h.Host, h.Err())
			}
		}
	}
	if strings.Join(got, " ") != tt.want || s.Halted != tt.halted {
		t.Errorf("got %s halted=%v\nwant %s halted=%v", strings.Join(got, " "), s.Halted, tt.want, tt.halted)
	}
	if int(most.Load()) > tt.policy.MaxParallel {
		t.Errorf("%d hosts in flight, max_parallel %d", most.Load(), tt.policy.MaxParallel)
	}
	if len(order) > 0 && tt.policy.Canary > 0 && order[0] != "h1" {
		t.Errorf("canary did not go first: %v", order)
	}
}

func TestHaltStopsHostsNotStarted(t *testing.T) {
	inv := fakeInventory(t, 3, inventory.Policy{Canary: 0, Batch: inventory.Amount{N: 1}, MaxParallel: 1})
	halt := make(chan struct{})
	close(halt)
	s, err := Rollout(context.Background(), Options{Inventory: inv, Halt: halt, Dial: func(context.Context, inventory.Target) (Host, error) {
		t.Error("a host started after the halt")
		return nil, errors.New("no")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Halted || s.Hosts[0].Status != StatusNotStarted {
		t.Errorf("halted=%v %v", s.Halted, s.Hosts)
	}
}

func TestSettingTook(t *testing.T) {
	props := map[string]string{"PrivateTmp": "yes", "TimeoutStopUSec": "20s", "KillMode": "mixed", "KillSignal": "15", "FinalKillSignal": "9", "RestartUSec": "100ms"}
	tests := []struct {
		s    inventory.Setting
		want bool
	}{
		{inventory.Setting{Key: "TimeoutStopSec", Value: "20s"}, true},
		{inventory.Setting{Key: "TimeoutStopSec", Value: "20"}, true},
		{inventory.Setting{Key: "TimeoutStopSec", Value: "20000ms"}, true},
		{inventory.Setting{Key: "TimeoutStopSec", Value: "90s"}, false},
		{inventory.Setting{Key: "KillMode", Value: "mixed"}, true},
		{inventory.Setting{Key: "KillMode", Value: "control-group"}, false},
		{inventory.Setting{Key: "KillSignal", Value: "SIGTERM"}, true},
		{inventory.Setting{Key: "KillSignal", Value: "TERM"}, true},
		{inventory.Setting{Key: "FinalKillSignal", Value: "SIGKILL"}, true},
		{inventory.Setting{Key: "KillSignal", Value: "SIGKILL"}, false},
		{inventory.Setting{Key: "RestartSec", Value: "100ms"}, true},
		{inventory.Setting{Key: "SomethingShowDoesNotHave", Value: "x"}, true},
		{inventory.Setting{Key: "PrivateTmp", Value: "true"}, true}, // shown as "yes": not compared
	}
	for _, tt := range tests {
		if ok, _, _ := settingTook(tt.s, props); ok != tt.want {
			t.Errorf("settingTook(%v) = %v, want %v", tt.s, ok, tt.want)
		}
	}
}

func TestParseSystemdDuration(t *testing.T) {
	tests := map[string]time.Duration{
		"20s": 20 * time.Second, "1min 30s": 90 * time.Second, "500ms": 500 * time.Millisecond,
		"90": 90 * time.Second, "1h": time.Hour, "infinity": -1, "2min": 2 * time.Minute,
	}
	for in, want := range tests {
		if got, err := parseSystemdDuration(in); err != nil || got != want {
			t.Errorf("parseSystemdDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "20x", "abc"} {
		if _, err := parseSystemdDuration(bad); err == nil {
			t.Errorf("parseSystemdDuration(%q) accepted", bad)
		}
	}
}

func TestLineDiff(t *testing.T) {
	got := lineDiff("[Service]\nTimeoutStopSec=90s\nKillMode=mixed\n", "[Service]\nTimeoutStopSec=20s\nKillMode=mixed\n")
	if got != "-TimeoutStopSec=90s\n+TimeoutStopSec=20s\n" {
		t.Errorf("lineDiff = %q", got)
	}
	if got := lineDiff("", "a\n"); got != "+a\n" {
		t.Errorf("lineDiff of a new file = %q", got)
	}
}

func TestDryHostRunsOnlyReads(t *testing.T) {
	tests := []struct {
		argv []string
		want bool
	}{
		{[]string{"systemctl", "show", "--no-pager", "--", "x.service"}, true},
		{[]string{"cat", "--", "/etc/x"}, true},
		{[]string{"sh", "-c", scriptFacts.body, "fleetfix-facts"}, true},
		{[]string{"sh", "-c", scriptBackup.body, "fleetfix-backup", "a", "b", "c"}, false},
		{[]string{"sh", "-c", scriptFacts.body + " ", "fleetfix-facts"}, false},
		{[]string{"systemctl", "restart", "x.service"}, false},
		{[]string{"systemctl", "daemon-reload"}, false},
		{[]string{"mkdir", "-p", "/x"}, false},
		{[]string{"rm", "-f", "/x"}, false},
		{[]string{"journalctl", "-b", "-1", "-o", "json"}, true},
		{[]string{"journalctl", "--vacuum-size=1M"}, false},
		{[]string{"journalctl", "--rotate"}, false},
	}
	for _, tt := range tests {
		if got := readOnly(tt.argv); got != tt.want {
			t.Errorf("readOnly(%q) = %v, want %v", tt.argv, got, tt.want)
		}
	}
}

func TestModeRoundTrip(t *testing.T) {
	for _, s := range []string{"0755", "0644", "4755", "2750", "1777", "0000"} {
		m, err := parseOctalMode(s)
		if err != nil || octalMode(m) != s {
			t.Errorf("mode %s -> %v -> %s (%v)", s, m, octalMode(m), err)
		}
	}
	if _, err := parseOctalMode("9999"); err == nil {
		t.Error("9999 accepted")
	}
}

// The canary batch must change a host: one already at the target proves
// nothing, so the next host takes its place.
func TestCanaryMustChangeAHost(t *testing.T) {
	inv := fakeInventory(t, 5, inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 100, Percent: true}, MaxParallel: 4})
	r, err := newRunner(Options{Inventory: inv, Dial: func(context.Context, inventory.Target) (Host, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]Status{"h1": StatusUnchanged, "h2": StatusOK, "h3": StatusOK, "h4": StatusUnchanged, "h5": StatusOK}
	var mu sync.Mutex
	var order []string
	s := r.roll(context.Background(), func(_ context.Context, tg inventory.Target, batch int) HostResult {
		mu.Lock()
		order = append(order, fmt.Sprintf("%s@%d", tg.Name, batch))
		mu.Unlock()
		return HostResult{Host: tg.Name, Batch: batch, Status: status[tg.Name]}
	})
	if got := strings.Join(order[:2], " "); got != "h1@0 h2@0" {
		t.Errorf("canaries ran as %s, want h1@0 h2@0", got)
	}
	for _, h := range s.Hosts[2:] {
		if h.Batch != 1 {
			t.Errorf("%s in batch %d, want 1", h.Host, h.Batch)
		}
	}
	if s.Halted || !s.OK() {
		t.Errorf("halted=%v ok=%v", s.Halted, s.OK())
	}
}
