package ansible

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Render writes f as a fleetfix inventory: its bastions and hosts with
// their connection keys and groups, and a commented services: stub for
// the operator to fill in. source names the Ansible inventory in the
// header.
func Render(f *Fleet, source string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# fleetfix inventory imported from the Ansible inventory %s\n", source)
	b.WriteString("# by `fleetfix inventory import`. The hosts keep the Ansible inventory's\n")
	b.WriteString("# order, which is fleetfix's rollout order; each host's groups are its\n")
	b.WriteString("# Ansible groups, parents included. See inventory.example.yaml for every key.\n")
	b.WriteString("\n")
	b.Write(RenderHosts(f))
	b.WriteString(servicesStub)
	return b.Bytes()
}

// RenderHosts writes only the bastions and hosts sections of f, to stand
// in for those of another inventory.
func RenderHosts(f *Fleet) []byte {
	var b bytes.Buffer
	if len(f.Bastions) > 0 {
		b.WriteString("bastions:\n")
		for _, t := range f.Bastions {
			writeTarget(&b, t)
		}
		b.WriteString("\n")
	}
	b.WriteString("hosts:\n")
	for _, t := range f.Hosts {
		writeTarget(&b, t)
	}
	return b.Bytes()
}

const servicesStub = `
# services: the fixes to roll out, at least one; fleetfix refuses the file
# until there is one. For example (fleetfix scan INVENTORY --suggest writes
# these from what the fleet's journals show):
# services:
#   - unit: smart-proxy.service
#     dropin:
#       settings:
#         TimeoutStopSec: 20s
#         KillMode: mixed
#     health:
#       tcp: 127.0.0.1:8080
`

func writeTarget(b *bytes.Buffer, t Target) {
	fmt.Fprintf(b, "  - name: %s\n", scalar(t.Name))
	fmt.Fprintf(b, "    address: %s\n", scalar(t.Address))
	if len(t.Groups) > 0 {
		q := make([]string, len(t.Groups))
		for i, g := range t.Groups {
			q[i] = scalar(g)
		}
		fmt.Fprintf(b, "    groups: [%s]\n", strings.Join(q, ", "))
	}
	if t.User != "" {
		fmt.Fprintf(b, "    user: %s\n", scalar(t.User))
	}
	if t.Port != 0 {
		fmt.Fprintf(b, "    port: %d\n", t.Port)
	}
	if t.IdentityFile != "" {
		fmt.Fprintf(b, "    identity_files: [%s]\n", scalar(t.IdentityFile))
	}
	if t.Become {
		b.WriteString("    become: true\n")
	}
	if t.BecomePassword {
		b.WriteString("    become_password: true\n")
	}
	if t.ProxyJump != "" {
		fmt.Fprintf(b, "    proxy_jump: %s\n", scalar(t.ProxyJump))
	}
}

// scalar renders s as a YAML string scalar, quoted only when YAML would
// otherwise read it as something else (a number, a bool, a flow item).
func scalar(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return strconv.Quote(s)
	}
	v := strings.TrimSuffix(string(out), "\n")
	if strings.ContainsAny(v, "\n,[]{}") && !strings.HasPrefix(v, `"`) && !strings.HasPrefix(v, "'") {
		return strconv.Quote(s)
	}
	return v
}
