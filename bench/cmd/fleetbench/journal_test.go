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
	analyse(&ht, p, c)
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
	analyse(&ht, p, c)
	if ht.OwnReboot != 1500*time.Millisecond || ht.ShutdownLogins != 1 {
		t.Errorf("own reboot %v logins %d, want 1.5s and 1", ht.OwnReboot, ht.ShutdownLogins)
	}
	if ht.Err != "" {
		t.Errorf("unexpected problem: %s", ht.Err)
	}
}

func TestAnalyseMissing(t *testing.T) {
	var ht HostTimes
	analyse(&ht, nil, nil)
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
