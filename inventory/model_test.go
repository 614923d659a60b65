package inventory

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestDropInRender compares rendered drop-ins with golden files; -update
// rewrites them.
func TestDropInRender(t *testing.T) {
	full := mustLoad(t, filepath.Join(goodDir, "full.yaml"))
	tests := []struct {
		golden string
		dropIn DropIn
	}{
		{"dropin-default.golden", DefaultDropIn()},
		{"dropin-full.golden", full.Services[0].DropIn},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			golden := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(golden, tt.dropIn.Render(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.dropIn.Render(); string(got) != string(want) {
				t.Errorf("Render() =\n%s\nwant (%s):\n%s", got, tt.golden, want)
			}
		})
	}
	equal(t, "Path", full.Services[0].DropIn.Path(full.Services[0].Unit), "/etc/systemd/system/smart-proxy.service.d/10-fleetfix.conf")
}
