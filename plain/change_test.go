package plain

import (
	"testing"

	"github.com/fleetfix/fleetfix/fleet"
)

func TestChangeLine(t *testing.T) {
	const old, sum = "d2b36f0f8434aa2c9a1b", "3aa2a5da482a19ff0e1d"
	tests := []struct {
		name  string
		c     fleet.Change
		arrow string
		want  string
	}{
		{"replaced, with its backup", fleet.Change{Path: "/bin/a", Existed: true, OldSHA256: old, NewSHA256: sum, OldMode: "0755", NewMode: "0755", Backup: "/bin/a.bak.r"},
			"->", "~ /bin/a  d2b36f0f8434 -> 3aa2a5da482a  backup /bin/a.bak.r"},
		{"mode and owner changed, the TUI's arrow", fleet.Change{Path: "/bin/a", Existed: true, OldSHA256: old, NewSHA256: sum, OldMode: "0644", NewMode: "0755",
			OldOwner: "app:app", NewOwner: "root:root"}, "→", "~ /bin/a  d2b36f0f8434 → 3aa2a5da482a  mode 0644 → 0755  owner app:app → root:root"},
		{"created", fleet.Change{Path: "/etc/d/x.conf", NewSHA256: sum, NewMode: "0644", NewOwner: "root:root"}, "->", "+ /etc/d/x.conf  new 3aa2a5da482a  0644 root:root"},
	}
	for _, tt := range tests {
		if got := ChangeLine(tt.c, tt.arrow); got != tt.want {
			t.Errorf("%s: ChangeLine = %q, want %q", tt.name, got, tt.want)
		}
	}
}
