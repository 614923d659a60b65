package fleet

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/inventory"
)

const (
	blockInhibitor = `{"type":"a(ssssuu)","data":[[["shutdown","backup-job","nightly backup","block",0,58]]]}`
	delayInhibitor = `{"type":"a(ssssuu)","data":[[["shutdown:sleep","NetworkManager","wait","delay",0,7]]]}`
	oneSession     = `{"type":"a(susso)","data":[[["3",1000,"alice","","/org/freedesktop/login1/session/_33"]]]}`
)

// withFacts is an outdated host whose preflight answers facts besides
// the usual ones (a later systemd_version line wins).
func withFacts(facts ...string) *scriptedHost {
	h := outdatedHost("h1")
	base := h.answers["preflight"]
	h.answers["preflight"] = func(c call) ([]byte, error) {
		out, err := base(c)
		for _, f := range facts {
			out = append(out, "fact "+f+"\n"...)
		}
		return out, err
	}
	return h
}

// TestPreflightKnowsTheSystemdVersion: a drop-in setting newer than the
// host's systemd, or a reboot a block inhibitor holds back, fails the host
// in preflight with the reason, before any change (the host received the
// preflight script alone); otherwise the rollout goes on.
func TestPreflightKnowsTheSystemdVersion(t *testing.T) {
	tests := []struct {
		name       string
		settings   []inventory.Setting
		inhibitors string
		reboot     bool
		facts      []string
		wantErr    string // "": the host passes preflight
		wantInfo   string
	}{
		{name: "FinalKillSignal on systemd 239", settings: []inventory.Setting{{Key: "FinalKillSignal", Value: "SIGKILL"}},
			facts:   []string{"systemd_version=239"},
			wantErr: "drop-in for demo.service: FinalKillSignal= needs systemd 240 or later; this host runs systemd 239"},
		{name: "TimeoutStopFailureMode on 245", settings: []inventory.Setting{{Key: "KillMode", Value: "mixed"}, {Key: "TimeoutStopFailureMode", Value: "kill"}},
			facts:   []string{"systemd_version=245"},
			wantErr: "TimeoutStopFailureMode= needs systemd 246 or later; this host runs systemd 245"},
		{name: "FinalKillSignal on 252", settings: []inventory.Setting{{Key: "FinalKillSignal", Value: "SIGKILL"}}},
		{name: "unknown version checks nothing", settings: []inventory.Setting{{Key: "RestartMode", Value: "direct"}},
			facts: []string{"systemd_version="}},
		{name: "no systemd-analyze", settings: []inventory.Setting{{Key: "KillMode", Value: "mixed"}},
			facts: []string{"systemd_analyze=no"}, wantInfo: "no systemd-analyze on the host"},
		{name: "block inhibitor, respect", reboot: true, facts: []string{"inhibitors=" + blockInhibitor},
			wantErr: `reboot inhibited by "backup-job" (nightly backup, pid 58, uid 0, block shutdown): end it, or set rollout.reboot_inhibitors: ignore`},
		{name: "block inhibitor, ignore", reboot: true, inhibitors: inventory.InhibitorsIgnore, facts: []string{"inhibitors=" + blockInhibitor},
			wantInfo: `the reboot goes past inhibitors (reboot_inhibitors: ignore): "backup-job"`},
		{name: "block inhibitor, no reboot", facts: []string{"inhibitors=" + blockInhibitor}},
		{name: "delay inhibitor", reboot: true, facts: []string{"inhibitors=" + delayInhibitor}},
		{name: "logged-in user", reboot: true, facts: []string{"inhibitors=" + delayInhibitor, "sessions=" + oneSession},
			wantInfo: "logged in: alice (session 3); the reboot ends their sessions"},
		{name: "logind silent", reboot: true, wantInfo: "inhibitors unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := withFacts(tt.facts...)
			inv := fakeInventory(t, 1, inventory.Policy{Batch: inventory.Amount{N: 1}, MaxParallel: 1, Reboot: tt.reboot, RebootInhibitors: tt.inhibitors})
			inv.Services[0].DropIn = inventory.DropIn{Name: "fix.conf", Section: "Service", Settings: tt.settings}
			rec := &recorder{}
			r, err := newRunner(Options{Inventory: inv, Reporter: rec,
				Dial: func(context.Context, inventory.Target) (Host, error) { return h, nil }})
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.preflight(context.Background(), h)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("preflight: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("preflight error %v, want %q", err, tt.wantErr)
			}
			if got := h.received(); !slices.Equal(got, []string{"preflight"}) {
				t.Errorf("host received %v, want the preflight alone", got)
			}
			if tt.wantInfo != "" && !rec.said(tt.wantInfo) {
				t.Errorf("no event says %q: %+v", tt.wantInfo, rec.events)
			}
		})
	}
}

// said reports whether an event's message contains s.
func (r *recorder) said(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.events, func(e Event) bool { return strings.Contains(e.Message, s) })
}

func TestRebootCommand(t *testing.T) {
	tests := []struct {
		version int
		ignore  bool
		want    string
	}{
		{252, false, "systemctl --no-block reboot"},
		{257, false, "systemctl --no-block reboot"},
		{0, true, "systemctl --no-block --ignore-inhibitors reboot"},
		{239, true, "systemctl --no-block --ignore-inhibitors reboot"},
		{252, true, "systemctl --no-block --check-inhibitors=no reboot"},
		{256, true, "systemctl --no-block --check-inhibitors=no reboot"},
		{257, true, "systemctl --no-block --job-mode=replace-irreversibly start reboot.target"},
	}
	for _, tt := range tests {
		if got := strings.Join(rebootCommand(tt.version, tt.ignore), " "); got != tt.want {
			t.Errorf("rebootCommand(%d, %v) = %s, want %s", tt.version, tt.ignore, got, tt.want)
		}
	}
}

func TestSSHDUnitAndStartRecord(t *testing.T) {
	tests := []struct {
		fact, unit, query string
	}{
		{"ssh.socket", "ssh.socket", "-u ssh.socket"},
		{"ssh.service", "ssh.service", "-u ssh.service"},
		{"sshd.service", "sshd.service", "-u sshd.service"},
		{"", "", "-u ssh.service -u sshd.service"},
		{"evil.service", "", "-u ssh.service -u sshd.service"},
	}
	for _, tt := range tests {
		u := sshdUnit(map[string]string{"sshd_unit": tt.fact})
		if u != tt.unit {
			t.Errorf("sshdUnit(%q) = %q, want %q", tt.fact, u, tt.unit)
		}
		h := &scriptedHost{name: "h", answers: map[string]answer{
			"journalctl": ok(`{"__MONOTONIC_TIMESTAMP":"5100000","MESSAGE_ID":"39f53479d3a045ac8e11786248231fbf"}` + "\n"),
		}}
		d, err := sshdStarted(context.Background(), h, u)
		if err != nil || d.Milliseconds() != 5100 {
			t.Errorf("sshdStarted: %v, %v", d, err)
		}
		if got := strings.Join(h.calls[0].args, " "); !strings.Contains(got, "-b 0 "+tt.query+" MESSAGE_ID=") {
			t.Errorf("%q: journalctl %s, want %s", tt.fact, got, tt.query)
		}
	}
}

func TestParseInhibitors(t *testing.T) {
	got, err := parseInhibitors(`{"type":"a(ssssuu)","data":[[["shutdown","a","x","block",0,1],["sleep","b","y","block",0,2],["idle:shutdown","c","z","delay",1,3]]]}`)
	if err != nil || len(got) != 3 {
		t.Fatalf("%+v, %v", got, err)
	}
	if !got[0].blocksReboot() || got[1].blocksReboot() || got[2].blocksReboot() {
		t.Errorf("blocksReboot: %v %v %v", got[0].blocksReboot(), got[1].blocksReboot(), got[2].blocksReboot())
	}
	for _, bad := range []string{"", "{", `{"data":[]}`, `{"data":[[["shutdown"]]]}`} {
		if _, err := parseInhibitors(bad); err == nil {
			t.Errorf("parseInhibitors(%q): no error", bad)
		}
	}
}
