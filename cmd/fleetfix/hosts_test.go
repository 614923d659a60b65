package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/fleetfix/fleetfix/internal/golden"
)

// TestHostsCommand: fleetfix hosts prints every host's connection with the
// origin of each value, the ssh_config given by -F.
func TestHostsCommand(t *testing.T) {
	t.Setenv("HOME", "/home/op")
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"hosts/hosts.golden", []string{"testdata/hosts/inventory.yaml", "-F", "testdata/hosts/ssh_config"}},
		{"hosts/no-ssh-config.golden", []string{"testdata/hosts/inventory.yaml", "--no-ssh-config", "-l", "web1"}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			var out bytes.Buffer
			cmd := newHostsCmd()
			cmd.SetArgs(tt.args)
			cmd.SetOut(&out)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.golden), out.Bytes())
		})
	}
}
