package suggest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/golden"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/journal"
)

func unit(name string, stop time.Duration, killed bool, timeout, killMode string, listen ...string) fleet.ScanUnit {
	return fleet.ScanUnit{UnitStop: journal.UnitStop{Unit: name, Duration: stop, Killed: killed, Result: map[bool]string{true: "timeout", false: "clean"}[killed]},
		TimeoutStop: timeout, KillMode: killMode, ExecPath: "/usr/local/bin/" + name[:len(name)-len(".service")], Listen: listen}
}

// fleetScan is three hosts: smart-proxy hangs into SIGKILL on h1 and h2
// and listens on 8080 everywhere; rule-proxy, only on h1 and h2 (group
// edge), stops slowly but cleanly; postgres on h3 listens on a different
// address per host; h4 has no previous boot.
func fleetScan() []fleet.ScanResult {
	return []fleet.ScanResult{
		{Host: "h1", Units: []fleet.ScanUnit{
			unit("smart-proxy.service", 90*time.Second, true, "1min 30s", "control-group", "0.0.0.0:8080", "[::]:8080", "127.0.0.1:9100"),
			unit("rule-proxy.service", 12*time.Second, false, "1min 30s", "control-group", "127.0.0.1:8081"),
			unit("cron.service", 40*time.Millisecond, false, "1min 30s", "control-group"),
		}},
		{Host: "h2", Units: []fleet.ScanUnit{
			unit("smart-proxy.service", 90*time.Second+200*time.Millisecond, true, "1min 30s", "control-group", "*:8080"),
			unit("rule-proxy.service", 7*time.Second, false, "1min 30s", "control-group", "127.0.0.1:8081"),
		}},
		{Host: "h3", Units: []fleet.ScanUnit{
			unit("smart-proxy.service", 2*time.Second, false, "1min 30s", "control-group", "0.0.0.0:8080"),
			unit("postgres.service", 3*time.Second, true, "3s", "mixed", "10.0.0.3:5432"),
		}},
		{Host: "h4", Note: "no previous boot in the journal"},
	}
}

const hostsPart = `hosts:
  - {name: h1, address: 192.0.2.1, groups: [edge]}
  - {name: h2, address: 192.0.2.2, groups: [edge]}
  - {name: h3, address: 192.0.2.3}
  - {name: h4, address: 192.0.2.4}
`

func TestRenderGolden(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inventory.yaml")
	inv, err := inventory.Parse(path, []byte(hostsPart+"services: [{unit: x}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := Render(fleetScan(), Options{Inventory: inv, Source: "inventory.yaml"})
	golden.Check(t, filepath.Join("testdata", "fleet.golden"), got)
}

// TestRenderLoads: with the hosts, the suggestion is an inventory fleetfix
// loads, with the settings the evidence calls for.
func TestRenderLoads(t *testing.T) {
	results := fleetScan()[:2] // smart-proxy and rule-proxy on every host read
	got := Render(results, Options{})
	inv, err := inventory.Parse(filepath.Join(t.TempDir(), "fix.yaml"), append([]byte(hostsPart), got...))
	if err != nil {
		t.Fatalf("%v\n%s", err, got)
	}
	want := map[string]struct{ timeout, tcp string }{
		"smart-proxy.service": {"20s", "127.0.0.1:8080"},
		"rule-proxy.service":  {"20s", "127.0.0.1:8081"},
	}
	if len(inv.Services) != len(want) {
		t.Fatalf("services %+v", inv.Services)
	}
	for _, s := range inv.Services {
		w := want[s.Unit]
		if s.DropIn.Settings[0] != (inventory.Setting{Key: "TimeoutStopSec", Value: w.timeout}) || s.Health.TCP != w.tcp {
			t.Errorf("%s: settings %v, health %q; want TimeoutStopSec %s, tcp %s", s.Unit, s.DropIn.Settings, s.Health.TCP, w.timeout, w.tcp)
		}
	}
	if Render([]fleet.ScanResult{{Host: "h1", Units: []fleet.ScanUnit{unit("cron.service", time.Second, false, "1min 30s", "control-group")}}}, Options{}) != nil {
		t.Error("a fast clean stop got a fix")
	}
}

func TestTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		u    Unit
		want time.Duration
	}{
		{"hung, 90s today", Unit{Stops: []Stop{{ScanUnit: unit("a.service", 90*time.Second, true, "1min 30s", "")}}}, 20 * time.Second},
		{"hung, 3s today", Unit{Stops: []Stop{{ScanUnit: unit("a.service", 3*time.Second, true, "3s", "")}}}, 3 * time.Second},
		{"slow 40s of 90s", Unit{Stops: []Stop{{ScanUnit: unit("a.service", 40*time.Second, false, "1min 30s", "")}}}, 60 * time.Second},
		{"slow 70s of 90s", Unit{Stops: []Stop{{ScanUnit: unit("a.service", 70*time.Second, false, "1min 30s", "")}}}, 90 * time.Second},
		{"slow 6s", Unit{Stops: []Stop{{ScanUnit: unit("a.service", 6*time.Second, false, "infinity", "")}}}, 20 * time.Second},
	} {
		if got, _ := tc.u.timeout(); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseTimespan(t *testing.T) {
	for in, want := range map[string]time.Duration{"1min 30s": 90 * time.Second, "3s": 3 * time.Second, "500ms": 500 * time.Millisecond, "1h 2min": 62 * time.Minute, "100us": 100 * time.Microsecond} {
		if got, ok := parseTimespan(in); !ok || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"infinity", "", "5x"} {
		if _, ok := parseTimespan(in); ok {
			t.Errorf("%q read as a bound", in)
		}
	}
}
