package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	smartproxy "github.com/fleetfix/fleetfix/examples/smart-proxy"
	"github.com/fleetfix/fleetfix/inventory"
)

// The bench's units follow the lab inventory's services: both demo
// services, each with its buggy build, port, and its lines in the
// starting-state check; the Ansible variables list both.
func TestBenchUnits(t *testing.T) {
	inv, err := inventory.Parse("/tmp/inventory.yaml", labInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	units, err := benchUnits(inv)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		ident, dest, fixed, port string
		buggy                    []byte
	}{
		{"smart-proxy", smartproxy.ProxyPath, "/bin/true", "8080", smartproxy.Buggy},
		{"rule-proxy", smartproxy.RulePath, "/bin/false", "8081", smartproxy.RuleBuggy},
	}
	if len(units) != len(want) {
		t.Fatalf("units %+v", units)
	}
	for i, w := range want {
		u := units[i]
		if u.ident() != w.ident || u.Dest != w.dest || u.Fixed != w.fixed || u.Port != w.port || !bytes.Equal(u.buggy, w.buggy) {
			t.Errorf("unit %d: %+v, want %+v", i, u, w)
		}
	}
	script := checkScript(units)
	if out, err := exec.Command("bash", "-n", "-c", script).CombinedOutput(); err != nil {
		t.Errorf("check script: %v: %s", err, out)
	}
	// One printed field per command line of the script.
	if got, lines := len(startState(units, "5s")), strings.Count(script, "\n"); got != lines {
		t.Errorf("start state has %d fields, the check script prints %d", got, lines)
	}
	if r := restoreScript(units); !strings.Contains(r, "rule-proxy.service.d/override.conf") || !strings.HasSuffix(r, "restart smart-proxy.service rule-proxy.service && sleep 1") {
		t.Errorf("restore script %q", r)
	}
	dir := t.TempDir()
	if err := writeBuggy(dir, units); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "vars.json")
	if err := writeAnsibleVars(path, units, "20s"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vars struct {
		Services    []benchUnit `json:"services"`
		StopTimeout string      `json:"stop_timeout"`
	}
	if err := json.Unmarshal(b, &vars); err != nil {
		t.Fatal(err)
	}
	if vars.StopTimeout != "20s" || len(vars.Services) != 2 || vars.Services[1].Buggy != filepath.Join(dir, "rule-proxy.buggy") || vars.Services[1].Host != "127.0.0.1" {
		t.Errorf("ansible vars %s", b)
	}
}
