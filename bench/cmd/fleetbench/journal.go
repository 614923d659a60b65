package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
)

// HostTimes is one host's own time in a run, read from its own journal
// (never from the controller's measurements), and what the controller did
// to it while it shut down.
type HostTimes struct {
	Host string `json:"host"`
	// The restart: systemd's first "Stopping" of the restart jobs of the
	// bench's units -> the last of their new processes' "listening on"
	// (healthy: their ports accept).
	RestartStop  time.Time `json:"restart_stop"`
	RestartReady time.Time `json:"restart_ready"`
	// The reboot: logind's "System is rebooting." -> the new boot's sshd
	// "Started ssh.service" and every unit's "listening on", whichever is
	// last (both tools wait for all).
	RebootStart  time.Time `json:"reboot_start"`
	PrevBootEnd  time.Time `json:"prev_boot_end"` // last record of the boot the reboot ended
	NewBootStart time.Time `json:"new_boot_start"`
	SSHDStarted  time.Time `json:"sshd_started"`
	ProxyReady   time.Time `json:"proxy_ready"` // the last unit's "listening on"
	// FirstLogin is the first "Accepted publickey" of the new boot: the
	// controller logging in after the reboot.
	FirstLogin time.Time `json:"first_login"`

	OwnRestart time.Duration `json:"own_restart_ns"`
	OwnReboot  time.Duration `json:"own_reboot_ns"`
	Own        time.Duration `json:"own_ns"`
	// DetectJournal is SSHDStarted -> FirstLogin.
	DetectJournal time.Duration `json:"detect_journal_ns"`
	// During the shutdown (RebootStart -> PrevBootEnd): sshd logins accepted
	// and connections closed before the key exchange (banner probes).
	ShutdownLogins int    `json:"shutdown_logins"`
	ShutdownProbes int    `json:"shutdown_probes"`
	Err            string `json:"error,omitempty"`
}

type jrec struct {
	t     time.Time
	ident string // SYSLOG_IDENTIFIER
	unit  string // UNIT (systemd's records about a unit)
	msg   string
}

const journalFields = "MESSAGE,SYSLOG_IDENTIFIER,UNIT,_SOURCE_REALTIME_TIMESTAMP"

// collectTimes reads, on every host at once (bounded), the journal records
// of the run that started at since, and analyses them for the units whose
// SYSLOG_IDENTIFIERs are units.
func collectTimes(ctx context.Context, inv *inventory.Inventory, units []string, since time.Time) []HostTimes {
	dial := fleet.RemoteDialer(inv, fleet.ConnectOptions{})
	out := make([]HostTimes, len(inv.Hosts))
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i, t := range inv.Hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = hostTimes(ctx, dial, t, units, since)
		}()
	}
	wg.Wait()
	return out
}

func hostTimes(ctx context.Context, dial fleet.Dialer, t inventory.Target, units []string, since time.Time) HostTimes {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	ht := HostTimes{Host: t.Name}
	h, err := dial(ctx, t)
	if err != nil {
		ht.Err = err.Error()
		return ht
	}
	defer func() { _ = h.Close() }() // read only: the journal is in or its error is
	read := func(boot string) ([]jrec, error) {
		out, err := h.Run(ctx, "journalctl", "-b", boot, "-o", "json", "--no-pager",
			"--since", fmt.Sprintf("@%d", since.Unix()-1), "--output-fields="+journalFields)
		if err != nil {
			return nil, fmt.Errorf("journalctl -b %s: %w", boot, err)
		}
		recs, err := parseJournal(out)
		// --since has a resolution of a second: drop what came before the run.
		return slices.DeleteFunc(recs, func(r jrec) bool { return r.t.Before(since) }), err
	}
	prev, err := read("-1")
	if err != nil {
		ht.Err = err.Error()
		return ht
	}
	cur, err := read("0")
	if err != nil {
		ht.Err = err.Error()
		return ht
	}
	analyse(&ht, prev, cur, units)
	return ht
}

func parseJournal(b []byte) ([]jrec, error) {
	var out []jrec
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("journal record: %w", err)
		}
		r := jrec{}
		r.msg, _ = m["MESSAGE"].(string) // a non-UTF-8 message is an array: not one we look for
		r.ident, _ = m["SYSLOG_IDENTIFIER"].(string)
		r.unit, _ = m["UNIT"].(string)
		for _, k := range []string{"_SOURCE_REALTIME_TIMESTAMP", "__REALTIME_TIMESTAMP"} {
			if s, ok := m[k].(string); ok {
				if us, err := strconv.ParseInt(s, 10, 64); err == nil {
					r.t = time.UnixMicro(us)
					break
				}
			}
		}
		if r.t.IsZero() {
			continue
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].t.Before(out[j].t) })
	return out, sc.Err()
}

func first(recs []jrec, after time.Time, match func(jrec) bool) time.Time {
	for _, r := range recs {
		if !r.t.Before(after) && match(r) {
			return r.t
		}
	}
	return time.Time{}
}

func isListening(ident string) func(jrec) bool {
	return func(r jrec) bool { return r.ident == ident && strings.Contains(r.msg, "listening on") }
}

// allListening is when the last of units logged "listening on" at or after
// from, zero (with the units that did not) unless every one did.
func allListening(recs []jrec, from time.Time, units []string) (time.Time, []string) {
	var last time.Time
	var missing []string
	for _, u := range units {
		t := first(recs, from, isListening(u))
		if t.IsZero() {
			missing = append(missing, u)
		} else if t.After(last) {
			last = t
		}
	}
	if len(missing) > 0 {
		return time.Time{}, missing
	}
	return last, nil
}

// analyse fills ht from the records of the boot the run's reboot ended
// (prev) and of the boot it started (cur), for the units whose
// SYSLOG_IDENTIFIERs are units (each unit's name without ".service").
func analyse(ht *HostTimes, prev, cur []jrec, units []string) {
	var problems []string
	ht.RestartStop = first(prev, time.Time{}, func(r jrec) bool {
		return r.ident == "systemd" && slices.Contains(units, strings.TrimSuffix(r.unit, ".service")) && strings.HasPrefix(r.msg, "Stopping ")
	})
	if ht.RestartStop.IsZero() {
		problems = append(problems, "no restart of "+strings.Join(units, ", ")+" in the previous boot")
	} else {
		var missing []string
		if ht.RestartReady, missing = allListening(prev, ht.RestartStop, units); missing != nil {
			problems = append(problems, strings.Join(missing, ", ")+" never listened after the restart")
		}
	}
	after := ht.RestartReady
	if after.IsZero() {
		after = ht.RestartStop
	}
	ht.RebootStart = first(prev, after, func(r jrec) bool {
		return r.ident == "systemd-logind" && (strings.HasPrefix(r.msg, "System is rebooting") || strings.HasPrefix(r.msg, "The system will reboot"))
	})
	if ht.RebootStart.IsZero() { // no logind record: the shutdown's first stop job
		ht.RebootStart = first(prev, after, func(r jrec) bool {
			return r.ident == "systemd" && strings.HasPrefix(r.msg, "Stopping ")
		})
	}
	if len(prev) > 0 {
		ht.PrevBootEnd = prev[len(prev)-1].t
	}
	if ht.RebootStart.IsZero() {
		problems = append(problems, "no reboot in the previous boot")
	} else {
		for _, r := range prev {
			if r.t.Before(ht.RebootStart) || r.ident != "sshd" {
				continue
			}
			switch {
			case strings.HasPrefix(r.msg, "Accepted "):
				ht.ShutdownLogins++
			case strings.Contains(r.msg, "kex_exchange_identification"):
				ht.ShutdownProbes++
			}
		}
	}
	if len(cur) > 0 {
		ht.NewBootStart = cur[0].t
	}
	ht.SSHDStarted = first(cur, time.Time{}, func(r jrec) bool {
		return r.ident == "systemd" && r.unit == "ssh.service" && strings.HasPrefix(r.msg, "Started ")
	})
	ht.ProxyReady, _ = allListening(cur, time.Time{}, units)
	ht.FirstLogin = first(cur, time.Time{}, func(r jrec) bool {
		return r.ident == "sshd" && strings.HasPrefix(r.msg, "Accepted ")
	})
	if ht.SSHDStarted.IsZero() || ht.ProxyReady.IsZero() {
		problems = append(problems, "new boot without sshd started or every unit listening")
	}
	if !ht.RestartStop.IsZero() && !ht.RestartReady.IsZero() {
		ht.OwnRestart = ht.RestartReady.Sub(ht.RestartStop)
	}
	if !ht.RebootStart.IsZero() && !ht.SSHDStarted.IsZero() && !ht.ProxyReady.IsZero() {
		ready := ht.SSHDStarted
		if ht.ProxyReady.After(ready) {
			ready = ht.ProxyReady
		}
		ht.OwnReboot = ready.Sub(ht.RebootStart)
	}
	ht.Own = ht.OwnRestart + ht.OwnReboot
	if !ht.SSHDStarted.IsZero() && !ht.FirstLogin.IsZero() {
		ht.DetectJournal = ht.FirstLogin.Sub(ht.SSHDStarted)
	}
	if len(problems) > 0 {
		ht.Err = strings.Join(problems, "; ")
	}
}
