package fleet_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
)

// TestProxyCommandThroughBastion: h5 refuses this machine's logins and is
// reached by its proxy_command, ssh -W %h:%p through h1; its own host key
// is still the one checked.
func TestProxyCommandThroughBastion(t *testing.T) {
	labtest.Need(t, tl)
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client (apt-get install openssh-client)")
	}
	proxy := fmt.Sprintf("ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s -i %s -W %%h:%%p root@%s",
		tl.Config.KnownHostsFile(), tl.Config.KeyFile(), tl.State.Hosts[0].Address)
	inv, _ := writeInventory(t, invSpec{hosts: []int{4}, hostExtra: map[int]string{4: "    proxy_command: '" + proxy + "'\n"}})
	dial := fleet.RemoteDialer(inv, fleet.ConnectOptions{})
	ctx := context.Background()
	bastionOnly(t, 4, func() (fleet.Host, error) { return dial(ctx, inv.Hosts[0]) })
	h, err := dial(ctx, inv.Hosts[0])
	if err != nil {
		t.Fatalf("dial h5 by proxy_command: %v", err)
	}
	defer h.Close()
	out, err := h.Run(ctx, "cat", "/etc/hostname")
	if err != nil || strings.TrimSpace(string(out)) != tl.State.Hosts[4].Name {
		t.Errorf("hostname = %q, %v; want %s", out, err, tl.State.Hosts[4].Name)
	}
}
