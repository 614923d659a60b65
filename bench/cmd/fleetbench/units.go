package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	smartproxy "github.com/fleetfix/fleetfix/examples/smart-proxy"
	"github.com/fleetfix/fleetfix/inventory"
)

// benchUnit is one hanging demo service the benchmark rolls out, as both
// tools and the starting-state checks see it.
type benchUnit struct {
	Unit  string `json:"unit"`  // e.g. rule-proxy.service
	Dest  string `json:"dest"`  // the build's path on the host
	Fixed string `json:"fixed"` // local path of the fixed build
	Buggy string `json:"buggy"` // local path of the buggy build (written by writeBuggy)
	Host  string `json:"host"`  // health check: this address accepts on Port
	Port  string `json:"port"`

	buggy []byte
}

// ident is the unit's SYSLOG_IDENTIFIER: its program's name.
func (u benchUnit) ident() string { return strings.TrimSuffix(u.Unit, ".service") }

// buggyBuilds are the demo's buggy builds by their path on a host.
var buggyBuilds = map[string][]byte{smartproxy.ProxyPath: smartproxy.Buggy, smartproxy.RulePath: smartproxy.RuleBuggy}

// benchUnits are the services of the bench inventory, in its order: one
// build each, a TCP health check, and a buggy build the lab installs.
func benchUnits(inv *inventory.Inventory) ([]benchUnit, error) {
	var out []benchUnit
	for _, s := range inv.Services {
		if len(s.Artifacts) != 1 {
			return nil, fmt.Errorf("%s: %d artifacts, want the demo's one", s.Unit, len(s.Artifacts))
		}
		a := s.Artifacts[0]
		buggy, ok := buggyBuilds[a.Dest]
		if !ok {
			return nil, fmt.Errorf("%s: %s is not a demo build", s.Unit, a.Dest)
		}
		host, port, err := net.SplitHostPort(s.Health.TCP)
		if err != nil {
			return nil, fmt.Errorf("%s: health: %w", s.Unit, err)
		}
		out = append(out, benchUnit{Unit: s.Unit, Dest: a.Dest, Fixed: a.Src, Host: host, Port: port, buggy: buggy})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no services", inv.Path)
	}
	return out, nil
}

// writeBuggy writes each unit's buggy build into dir, for Ansible's restore.
func writeBuggy(dir string, units []benchUnit) error {
	for i := range units {
		units[i].Buggy = filepath.Join(dir, units[i].ident()+".buggy")
		if err := os.WriteFile(units[i].Buggy, units[i].buggy, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// writeAnsibleVars writes the variables both playbooks read (-e @path):
// the units and the drop-in's TimeoutStopSec.
func writeAnsibleVars(path string, units []benchUnit, stopTimeout string) error {
	b, err := json.MarshalIndent(map[string]any{"services": units, "stop_timeout": stopTimeout}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// checkScript prints a host's state: the lock, then per unit its build's
// sha256, whether the rollout's drop-in is there, whether it is active and
// its TimeoutStopUSec.
func checkScript(units []benchUnit) string {
	var b strings.Builder
	b.WriteString("[ -e /var/lib/fleetfix/lock ] && echo lock=yes || echo lock=no\n")
	for _, u := range units {
		fmt.Fprintf(&b, "sha256sum %s | cut -d' ' -f1\n", u.Dest)
		fmt.Fprintf(&b, "[ -e /etc/systemd/system/%s.d/override.conf ] && echo dropin=yes || echo dropin=no\n", u.Unit)
		fmt.Fprintf(&b, "systemctl is-active %s || true\n", u.Unit)
		fmt.Fprintf(&b, "systemctl show -p TimeoutStopUSec --value %s\n", u.Unit)
	}
	return b.String()
}

// startState is what checkScript prints on a host in the starting state.
func startState(units []benchUnit, stopTimeout string) []string {
	want := []string{"lock=no"}
	for _, u := range units {
		want = append(want, sha256Hex(u.buggy), "dropin=no", "active", stopTimeout)
	}
	return want
}

// restoreScript removes the drop-ins and restarts the units on the builds
// already put back, the units together.
func restoreScript(units []benchUnit) string {
	var rm, names []string
	for _, u := range units {
		rm = append(rm, "/etc/systemd/system/"+u.Unit+".d/override.conf")
		names = append(names, u.Unit)
	}
	return fmt.Sprintf("rm -f %s && systemctl daemon-reload && systemctl restart %s && sleep 1",
		strings.Join(rm, " "), strings.Join(names, " "))
}

// idents are the units' SYSLOG_IDENTIFIERs, for the journal's analysis.
func idents(units []benchUnit) []string {
	out := make([]string, len(units))
	for i, u := range units {
		out[i] = u.ident()
	}
	return out
}
