package fleet_test

import (
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/labtest"
)

// TestWrongSudoPasswordOneAttempt: a wrong become password costs one
// password attempt on the host, not two (sudo logged "2 incorrect password
// attempts" when the stdin marker went with the password), so
// pam_faillock's count per run is one; the error says so in a line,
// without the script.
func TestWrongSudoPasswordOneAttempt(t *testing.T) {
	labtest.Need(t, tl)
	const host = 3 // h4
	inv, _ := writeInventory(t, invSpec{hosts: []int{host}, hostExtra: map[int]string{host: "    user: ops\n    become: true\n    become_password: true\n"},
		settings: "        TimeoutStopSec: 5s\n", policy: "  reboot: false\n"})
	since := tl.SSH(t, host, "date +%s")
	o := fleet.ConnectOptions{BecomePassword: func() ([]byte, error) { return []byte("not the password"), nil }}
	s, ev := rollout(t, inv, o)
	if len(s.Hosts) != 1 || s.Hosts[0].Status != fleet.StatusFailed {
		t.Fatalf("want the host failed: %s\n%s", statuses(s), ev.text())
	}
	err := s.Hosts[0].Err()
	if err == nil || !strings.Contains(err.Error(), "sudo: wrong password or user not allowed") || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "'sh'") {
		t.Errorf("error %v: want one line naming the wrong password", err)
	}
	// Both sudo's and pam_unix's own log lines, read a moment later so
	// that journald has them.
	log := tl.SSH(t, host, "sleep 1; journalctl -q --no-pager -o cat _COMM=sudo --since @"+since+" | grep -E 'authentication failure|incorrect password attempt' || true")
	if n := strings.Count(log, "authentication failure"); n != 1 {
		t.Errorf("pam_unix logged %d authentication failures, want 1:\n%s", n, log)
	}
	if strings.Contains(log, "2 incorrect password attempts") || !strings.Contains(log, "1 incorrect password attempt") {
		t.Errorf("sudo did not log exactly one incorrect attempt:\n%s", log)
	}
}
