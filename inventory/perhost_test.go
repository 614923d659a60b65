package inventory

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestServicesOf checks testdata/good/roles.yaml: h1 and h2 run both
// proxies, h3 only smart-proxy; the db group (h2, h3) stops slower, and h3
// has a health check and a build of its own, the later override winning.
func TestServicesOf(t *testing.T) {
	inv := mustLoad(t, filepath.Join(goodDir, "roles.yaml"))
	build, err := filepath.Abs("testdata/files/smart-proxy")
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultDropIn()
	db := DefaultDropIn()
	db.Settings = []Setting{{"TimeoutStopSec", "60s"}, {"KillMode", "mixed"}, {"KillSignal", "SIGTERM"},
		{"FinalKillSignal", "SIGKILL"}, {"SendSIGKILL", "no"}}
	smart := Service{Unit: "smart-proxy.service", DropIn: def, Health: Health{Timeout: 15 * time.Second}, Verify: Verify{MaxStop: 5 * time.Second}}
	rule := Service{Unit: "rule-proxy.service", DropIn: def, Health: Health{TCP: "127.0.0.1:8081", Timeout: 5 * time.Second},
		Artifacts: []Artifact{{Src: build, Dest: "/usr/local/bin/rule-proxy"}}}
	smartDB := smart
	smartDB.DropIn, smartDB.Verify = db, Verify{MaxStop: 70 * time.Second}
	smartH3 := smartDB
	smartH3.Health.TCP = "127.0.0.1:9090"
	smartH3.Artifacts = []Artifact{{Src: build, Dest: "/usr/local/bin/smart-proxy"}}
	want := map[string][]Service{
		"h1": {smart, rule},
		"h2": {smartDB, rule},
		"h3": {smartH3},
	}
	for _, h := range inv.Hosts {
		equal(t, "ServicesOf("+h.Name+")", inv.ServicesOf(h), want[h.Name])
	}
	// Hosts share a selection exactly when they get the same services.
	for _, a := range inv.Hosts {
		for _, b := range inv.Hosts {
			same := inv.Selection(a) == inv.Selection(b)
			if same != reflect.DeepEqual(inv.ServicesOf(a), inv.ServicesOf(b)) {
				t.Errorf("%s %q, %s %q: same selection %v, but services differ or agree otherwise", a.Name, inv.Selection(a), b.Name, inv.Selection(b), same)
			}
		}
	}
	// The inventory's own services keep their selection and overrides.
	equal(t, "rule-proxy groups", inv.Services[1].Groups, []string{"edge"})
	equal(t, "smart-proxy overrides", len(inv.Services[0].Overrides), 2)
}

func TestMergeSettings(t *testing.T) {
	s := func(kv ...string) []Setting {
		var out []Setting
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, Setting{kv[i], kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name             string
		base, over, want []Setting
	}{
		{"replace in place", s("A", "1", "B", "2"), s("A", "9"), s("A", "9", "B", "2")},
		{"add at the end", s("A", "1"), s("C", "3"), s("A", "1", "C", "3")},
		{"list replaces list", s("X", "", "X", "a", "B", "2"), s("X", "", "X", "b"), s("X", "", "X", "b", "B", "2")},
		{"new list keeps together", s("A", "1"), s("X", "", "X", "b"), s("A", "1", "X", "", "X", "b")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			equal(t, "merge", mergeSettings(tt.base, tt.over), tt.want)
		})
	}
}
