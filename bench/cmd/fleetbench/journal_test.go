package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// rec builds a journalctl -o json line at second s (of a fixed day).
func rec(s float64, ident, unit, msg string) string {
	us := time.Date(2026, 11, 24, 22, 0, 0, 0, time.UTC).UnixMicro() + int64(s*1e6)
	u := ""
	if unit != "" {
		u = fmt.Sprintf(`"UNIT":%q,`, unit)
	}
	return fmt.Sprintf(`{"__REALTIME_TIMESTAMP":"%d",%s"SYSLOG_IDENTIFIER":%q,"MESSAGE":%q}`, us, u, ident, msg)
}

func TestAnalyse(t *testing.T) {
	prev := strings.Join([]string{
		rec(10.0, "sshd", "", "Accepted publickey for root from 10.80.0.1 port 1 ssh2"),
		rec(10.5, "systemd", "smart-proxy.service", "Stopping smart-proxy.service - smart-proxy..."),
		rec(15.6, "systemd", "smart-proxy.service", "Started smart-proxy.service - smart-proxy."),
		rec(16.0, "smart-proxy", "", "smart-proxy: listening on 0.0.0.0:8080, upstream 127.0.0.1:9090, pool 2"),
		rec(16.2, "systemd", "run-r1.timer", "Started run-r1.timer - /usr/bin/systemctl reboot."),
		rec(16.3, "systemd-logind", "", "System is rebooting."),
		rec(16.31, "sshd", "", "error: kex_exchange_identification: Connection closed by remote host"),
		rec(16.32, "systemd", "smart-proxy.service", "Stopping smart-proxy.service - smart-proxy..."),
		rec(16.5, "systemd", "", "Shutting down."),
	}, "\n")
	cur := strings.Join([]string{
		rec(17.0, "systemd-journald", "", "Journal started"),
		rec(17.4, "systemd", "smart-proxy.service", "Started smart-proxy.service - smart-proxy."),
		rec(17.5, "systemd", "ssh.service", "Started ssh.service - OpenBSD Secure Shell server."),
		rec(17.8, "smart-proxy", "", "smart-proxy: listening on 0.0.0.0:8080, upstream 127.0.0.1:9090, pool 2"),
		rec(17.65, "sshd", "", "Accepted publickey for root from 10.80.0.1 port 2 ssh2"),
	}, "\n")
	p, err := parseJournal([]byte(prev))
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseJournal([]byte(cur))
	if err != nil {
		t.Fatal(err)
	}
	var ht HostTimes
	analyse(&ht, p, c, []string{"smart-proxy"})
	if ht.Err != "" {
		t.Fatal(ht.Err)
	}
	near := func(name string, got time.Duration, want float64) {
		t.Helper()
		if d := got.Seconds() - want; d > 1e-6 || d < -1e-6 {
			t.Errorf("%s = %v, want %.3fs", name, got, want)
		}
	}
	near("own restart", ht.OwnRestart, 5.5) // Stopping -> listening
	near("own reboot", ht.OwnReboot, 1.5)   // System is rebooting -> max(sshd Started, listening)
	near("detect", ht.DetectJournal, 0.15)  // sshd Started -> Accepted (records sorted by time)
	near("own", ht.Own, 7.0)
	if ht.ShutdownProbes != 1 || ht.ShutdownLogins != 0 {
		t.Errorf("shutdown probes %d logins %d, want 1 and 0", ht.ShutdownProbes, ht.ShutdownLogins)
	}
}

func TestAnalyseAnsibleReboot(t *testing.T) {
	// Ansible's shutdown -r: logind says why; no run-*.timer.
	prev := strings.Join([]string{
		rec(1, "systemd", "smart-proxy.service", "Stopping smart-proxy.service - smart-proxy..."),
		rec(6, "smart-proxy", "", "smart-proxy: listening on 0.0.0.0:8080"),
		rec(8, "systemd-logind", "", "System is rebooting (Reboot initiated by Ansible)."),
		rec(8.1, "sshd", "", "Accepted publickey for root"),
	}, "\n")
	cur := rec(9, "systemd", "ssh.service", "Started ssh.service") + "\n" + rec(9.5, "smart-proxy", "", "smart-proxy: listening on 0.0.0.0:8080")
	p, _ := parseJournal([]byte(prev))
	c, _ := parseJournal([]byte(cur))
	var ht HostTimes
	analyse(&ht, p, c, []string{"smart-proxy"})
	if ht.OwnReboot != 1500*time.Millisecond || ht.ShutdownLogins != 1 {
		t.Errorf("own reboot %v logins %d, want 1.5s and 1", ht.OwnReboot, ht.ShutdownLogins)
	}
	if ht.Err != "" {
		t.Errorf("unexpected problem: %s", ht.Err)
	}
}

// Two units restarted one after the other (Ansible's loop): the restart
// runs from the first unit's stop to the last unit's listening, and the
// reboot waits for both.
func TestAnalyseTwoUnits(t *testing.T) {
	units := []string{"smart-proxy", "rule-proxy"}
	prev := strings.Join([]string{
		rec(1, "systemd", "smart-proxy.service", "Stopping smart-proxy.service - smart-proxy..."),
		rec(2, "smart-proxy", "", "smart-proxy: listening on 0.0.0.0:8080"),
		rec(2.1, "systemd", "rule-proxy.service", "Stopping rule-proxy.service - rule-proxy..."),
		rec(3.5, "rule-proxy", "", "rule-proxy: listening on 0.0.0.0:8081, feed 127.0.0.1:9090, feeds 2"),
		rec(4, "systemd-logind", "", "System is rebooting."),
	}, "\n")
	cur := strings.Join([]string{
		rec(5, "systemd", "ssh.service", "Started ssh.service"),
		rec(5.2, "smart-proxy", "", "smart-proxy: listening on 0.0.0.0:8080"),
		rec(5.6, "rule-proxy", "", "rule-proxy: listening on 0.0.0.0:8081"),
	}, "\n")
	p, _ := parseJournal([]byte(prev))
	c, _ := parseJournal([]byte(cur))
	tests := []struct {
		name          string
		cur           []jrec
		restart, boot time.Duration
		err           string
	}{
		{"both listen", c, 2500 * time.Millisecond, 1600 * time.Millisecond, ""},
		{"rule-proxy never back", c[:2], 2500 * time.Millisecond, 0, "every unit listening"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ht HostTimes
			analyse(&ht, p, tt.cur, units)
			if ht.OwnRestart != tt.restart || ht.OwnReboot != tt.boot {
				t.Errorf("own restart %v reboot %v, want %v and %v", ht.OwnRestart, ht.OwnReboot, tt.restart, tt.boot)
			}
			if (tt.err == "") != (ht.Err == "") || !strings.Contains(ht.Err, tt.err) {
				t.Errorf("problems %q, want %q", ht.Err, tt.err)
			}
		})
	}
}

func TestAnalyseMissing(t *testing.T) {
	var ht HostTimes
	analyse(&ht, nil, nil, []string{"smart-proxy"})
	if ht.Err == "" || ht.Own != 0 {
		t.Errorf("no records: err %q own %v, want an error and no time", ht.Err, ht.Own)
	}
}

func TestSpread(t *testing.T) {
	got := spread([]time.Duration{3 * time.Second, time.Second, 2 * time.Second}, time.Second, 1)
	if got != "2.0 (1.0–3.0)" {
		t.Errorf("spread = %q", got)
	}
	if m := median([]time.Duration{4, 1, 3, 2}); m != 2 {
		t.Errorf("median of 4 = %v, want 2 (2.5 truncated)", m)
	}
}
