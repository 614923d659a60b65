package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/sshcfg"
)

// TestBatchesBastionOrder: a target that is another's bastion runs before
// the hosts behind it, in a batch of its own or, among the canaries, one
// host at a time; hosts unrelated to it may share its batch.
func TestBatchesBastionOrder(t *testing.T) {
	pct := func(n int) inventory.Amount { return inventory.Amount{N: n, Percent: true} }
	// h2 jumps through h1, h3 through the bastion b which jumps through h1,
	// h4 through h2; h5 and h6 connect directly.
	hosts := []inventory.Target{
		{Name: "h4", Conn: inventory.Conn{ProxyJump: "h2"}},
		{Name: "h2", Conn: inventory.Conn{ProxyJump: "h1"}},
		{Name: "h5"},
		{Name: "h3", Conn: inventory.Conn{ProxyJump: "b"}},
		{Name: "h1"},
		{Name: "h6"},
	}
	bastions := []inventory.Target{{Name: "b", Conn: inventory.Conn{ProxyJump: "h1"}}}
	pick := func(names ...string) []inventory.Target {
		var out []inventory.Target
		for _, h := range hosts {
			if slices.Contains(names, h.Name) {
				out = append(out, h)
			}
		}
		return out
	}
	tests := []struct {
		name    string
		targets []inventory.Target
		p       inventory.Policy
		want    string
	}{
		{"all at once", hosts, inventory.Policy{Batch: pct(100)}, "h5 h1 h6 | h2 h3 | h4"},
		{"canary then batches", hosts, inventory.Policy{Canary: 1, Batch: inventory.Amount{N: 2}}, "h5 | h1 h6 | h2 h3 | h4"},
		{"canaries span tiers, one at a time", hosts, inventory.Policy{Canary: 4, Batch: pct(100)}, "h5 h1 h6 h2 | h3 | h4"},
		{"bastion not a target", pick("h4", "h2", "h3"), inventory.Policy{Batch: pct(100)}, "h2 h3 | h4"},
		{"no bastion among the targets", pick("h4", "h3", "h5"), inventory.Policy{Batch: pct(100)}, "h4 h5 h3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &inventory.Inventory{Hosts: hosts, Bastions: bastions, Rollout: tt.p}
			var got []string
			for _, b := range Batches(inv, nil, tt.targets) {
				var names []string
				for _, i := range b {
					names = append(names, tt.targets[i].Name)
				}
				got = append(got, strings.Join(names, " "))
			}
			if g := strings.Join(got, " | "); g != tt.want {
				t.Errorf("batches %s, want %s", g, tt.want)
			}
		})
	}
}

// TestRunOrdersBastions: the run itself keeps the order Batches plans. h3's
// bastion h1 is listed after it; h1 ends before h3 starts, in an earlier
// batch, and the run says why. A failure behind a bastion still counts
// against the budget as any other.
func TestRunOrdersBastions(t *testing.T) {
	inv := fakeInventory(t, 4, inventory.Policy{Canary: 0, Batch: inventory.Amount{N: 100, Percent: true}, MaxParallel: 4, FailureBudget: inventory.Amount{N: 1}})
	inv.Hosts[0].ProxyJump = "h2" // h1 behind h2
	inv.Hosts[2].ProxyJump = "h2" // h3 behind h2
	rec := &recorder{}
	r, err := newRunner(Options{Inventory: inv, Dial: func(context.Context, inventory.Target) (Host, error) { return nil, nil }, Reporter: rec})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log []string
	s := r.roll(context.Background(), func(_ context.Context, tg inventory.Target, batch int) HostResult {
		mu.Lock()
		log = append(log, fmt.Sprintf("%s@%d start", tg.Name, batch))
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		log = append(log, tg.Name+" end")
		mu.Unlock()
		st := StatusOK
		if tg.Name == "h3" {
			st = StatusFailed
		}
		return HostResult{Host: tg.Name, Batch: batch, Status: st}
	})
	h2end, behind := slices.Index(log, "h2 end"), []int{slices.Index(log, "h1@2 start"), slices.Index(log, "h3@2 start")}
	if h2end < 0 || slices.Contains(behind, -1) || slices.Min(behind) < h2end {
		t.Errorf("run order %v: want h2 (batch 1) ended before h1 and h3 (batch 2) start", log)
	}
	var got []string
	for _, h := range s.Hosts {
		got = append(got, fmt.Sprintf("%s=%s@%d", h.Host, h.Status, h.Batch))
	}
	if g := strings.Join(got, " "); g != "h2=ok@1 h4=ok@1 h1=ok@2 h3=failed@2" || s.Halted {
		t.Errorf("summary %s halted=%v", g, s.Halted)
	}
	if notes := infoNotes(rec); !slices.Equal(notes, []string{"h2: bastion of h1, h3: runs before them, never beside"}) {
		t.Errorf("notes %q", notes)
	}
}

// TestRunOrderSSHConfig: the run orders by the jump chains the dialer
// follows, ssh_config's ProxyJump included (Host web* jumps through gw,
// an inventory host), and matches a hop to the target of its alias,
// whatever user or port the hop gives.
func TestRunOrderSSHConfig(t *testing.T) {
	hosts := []inventory.Target{
		{Name: "web1", Address: "web1.example"},
		{Name: "web2", Address: "web2.example"},
		{Name: "web3", Address: "web3.example", Conn: inventory.Conn{ProxyJump: inventory.ProxyJumpNone}},
		{Name: "gw", Address: "gw.example"},
		{Name: "deep", Address: "deep.example"},
		{Name: "relay", Address: "relay.example"},
		{Name: "app", Address: "app.example", Conn: inventory.Conn{ProxyJump: "gw"}},
	}
	const webs = "Host web*\n  ProxyJump gw\n"
	tests := []struct {
		name     string
		config   string // "" for no ssh_config
		noConfig bool   // the inventory's ssh_config: false
		broken   bool   // the ssh_config did not load
		want     string
	}{
		{"ProxyJump through a target", webs, false, false, "web3:0 gw:0 deep:0 relay:0 web1:1 web2:1 app:1"},
		{"a hop's user and port", "Host web*\n  ProxyJump admin@gw:2222\n", false, false, "web3:0 gw:0 deep:0 relay:0 web1:1 web2:1 app:1"},
		{"a chain of two hops", webs + "Host deep.example\n  ProxyJump gw,relay\n", false, false, "web3:0 gw:0 relay:0 web1:1 web2:1 app:1 deep:2"},
		{"a hop that is no target", "Host web*\n  ProxyJump outside\n", false, false, "web1:0 web2:0 web3:0 gw:0 deep:0 relay:0 app:1"},
		{"no ssh_config: the inventory's chains", "", false, false, "web1:0 web2:0 web3:0 gw:0 deep:0 relay:0 app:1"},
		{"the inventory ignores ssh_config", webs, true, false, "web1:0 web2:0 web3:0 gw:0 deep:0 relay:0 app:1"},
		{"ssh_config did not load: the inventory's chains", "", false, true, "web1:0 web2:0 web3:0 gw:0 deep:0 relay:0 app:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &inventory.Inventory{Hosts: hosts, SSHConfig: !tt.noConfig}
			sc := testSSHConfig(t, tt.config)
			if tt.broken {
				sc = sshcfg.Failed(errors.New("ssh_config: broken"))
			}
			order, tiers := runOrder(inv, sc, hosts)
			var got []string
			for k, i := range order {
				got = append(got, fmt.Sprintf("%s:%d", hosts[i].Name, tiers[k]))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("order %s, want %s", g, tt.want)
			}
		})
	}
}

// TestRunNotesSSHConfigBastions: a run given the ssh_config says which
// target is the bastion of which, and runs it in an earlier batch.
func TestRunNotesSSHConfigBastions(t *testing.T) {
	inv := fakeInventory(t, 3, inventory.Policy{Batch: inventory.Amount{N: 100, Percent: true}, MaxParallel: 3})
	inv.SSHConfig = true
	for i := range inv.Hosts {
		inv.Hosts[i].Address = inv.Hosts[i].Name + ".example"
	}
	sc := testSSHConfig(t, "Host h1.example h3.example\n  ProxyJump h2\n")
	rec := &recorder{}
	r, err := newRunner(Options{Inventory: inv, SSHConfig: sc, Dial: func(context.Context, inventory.Target) (Host, error) { return nil, nil }, Reporter: rec})
	if err != nil {
		t.Fatal(err)
	}
	s := r.roll(context.Background(), func(_ context.Context, tg inventory.Target, batch int) HostResult {
		return HostResult{Host: tg.Name, Batch: batch, Status: StatusOK}
	})
	var got []string
	for _, h := range s.Hosts {
		got = append(got, fmt.Sprintf("%s@%d", h.Host, h.Batch))
	}
	if g := strings.Join(got, " "); g != "h2@1 h1@2 h3@2" {
		t.Errorf("batches %s, want h2@1 h1@2 h3@2", g)
	}
	if notes := infoNotes(rec); !slices.Equal(notes, []string{"h2: bastion of h1, h3: runs before them, never beside"}) {
		t.Errorf("notes %q", notes)
	}
	// The plan's batches and policy line (the TUI's batch column, the
	// plan's run line) count the same two batches as the run.
	if got := Batches(inv, sc, inv.Hosts); !reflect.DeepEqual(got, [][]int{{1}, {0, 2}}) {
		t.Errorf("Batches = %v, want [[1] [0 2]]", got)
	}
	if got := PolicyLine(inv, sc, inv.Hosts); !strings.HasPrefix(got, "3 host(s) in 2 batch(es)") {
		t.Errorf("PolicyLine = %q, want 2 batches", got)
	}
}

// testSSHConfig loads text as the user's ssh_config; nil for "".
func testSSHConfig(t *testing.T, text string) *sshcfg.Config {
	t.Helper()
	if text == "" {
		return nil
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := sshcfg.Load(sshcfg.Paths{User: path, Home: dir})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// infoNotes are the run's notes, "host: message".
func infoNotes(rec *recorder) []string {
	var notes []string
	for _, e := range rec.events {
		if e.Phase == PhaseInfo {
			notes = append(notes, e.Host+": "+e.Message)
		}
	}
	return notes
}
