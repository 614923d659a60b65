package inventory

import (
	"path/filepath"
	"testing"

	"github.com/fleetfix/fleetfix/internal/golden"
)

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
			golden.Check(t, filepath.Join("testdata", tt.golden), tt.dropIn.Render())
		})
	}
	equal(t, "Path", full.Services[0].DropIn.Path(full.Services[0].Unit), "/etc/systemd/system/smart-proxy.service.d/10-fleetfix.conf")
}
