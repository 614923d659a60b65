package fleet

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
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
			for _, b := range Batches(inv, tt.targets) {
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
	var notes []string
	for _, e := range rec.events {
		if e.Phase == PhaseInfo {
			notes = append(notes, e.Host+": "+e.Message)
		}
	}
	if !slices.Equal(notes, []string{"h2: bastion of h1, h3: runs before them, never beside"}) {
		t.Errorf("notes %q", notes)
	}
}
