package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	badDir  = "testdata/bad"
	goodDir = "testdata/good"
)

// exampleArtifact is the file inventory.example.yaml pushes, relative to the
// repository root where the example lives.
const exampleArtifact = "examples/smart-proxy/fixed/smart-proxy"

// TestExampleInventory checks every value of inventory.example.yaml. It
// parses a copy placed next to a stand-in artifact, so that it checks the
// file's content whatever state examples/ is in.
func TestExampleInventory(t *testing.T) {
	data, err := os.ReadFile("../inventory.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, exampleArtifact), "")
	inv, err := Parse(filepath.Join(dir, "inventory.example.yaml"), data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	var names, addrs []string
	for _, h := range inv.Hosts {
		names = append(names, h.Name)
		addrs = append(addrs, h.Address)
	}
	equal(t, "host names", names, []string{"h1", "h2", "h3"})
	equal(t, "addresses", addrs, []string{"10.77.0.2", "10.77.0.3", "10.77.0.4"})
	equal(t, "bastions", len(inv.Bastions), 0)
	equal(t, "groups", inv.Groups, map[string][]string{"canary": {"h1"}, "lab": {"h1", "h2", "h3"}})
	equal(t, "ssh_config", inv.SSHConfig, true)

	for _, h := range inv.Hosts {
		rc := inv.Resolve(h)
		want := ResolvedConn{
			Name: h.Name, Address: h.Address, User: "root", Port: 22,
			IdentityFiles:  []string{"/var/lib/fleetfix/lab/id_ed25519"},
			KnownHosts:     []string{"/var/lib/fleetfix/lab/known_hosts"},
			Agent:          true,
			ConnectTimeout: 10 * time.Second, MaxStartups: 8, ConnectRetries: 2,
		}
		equal(t, "Resolve("+h.Name+")", rc, want)
	}

	if len(inv.Services) != 1 {
		t.Fatalf("services = %+v, want one", inv.Services)
	}
	svc := inv.Services[0]
	equal(t, "unit", svc.Unit, "smart-proxy.service")
	mode := fs.FileMode(0o755)
	equal(t, "artifacts", svc.Artifacts, []Artifact{{
		Src:   filepath.Join(dir, exampleArtifact),
		Dest:  "/usr/local/bin/smart-proxy",
		Mode:  &mode,
		Owner: "root:root",
	}})
	equal(t, "drop-in", svc.DropIn, DefaultDropIn())
	equal(t, "drop-in path", svc.DropIn.Path(svc.Unit), "/etc/systemd/system/smart-proxy.service.d/override.conf")
	equal(t, "health", svc.Health, Health{TCP: "127.0.0.1:8080", Timeout: 15 * time.Second})
	equal(t, "restart", svc.Restart, Restart{})
	equal(t, "verify", svc.Verify, Verify{})
	// The example spells out the defaults, so the two must agree.
	equal(t, "rollout", inv.Rollout, DefaultPolicy())
}

// TestExampleInventoryInRepo loads the example where it lives. It needs
// examples/smart-proxy/fixed/smart-proxy, the build the example pushes.
func TestExampleInventoryInRepo(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", exampleArtifact)); err != nil {
		t.Fatalf("inventory.example.yaml pushes %s: %v", exampleArtifact, err)
	}
	inv, err := Load("../inventory.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs(filepath.Join("..", exampleArtifact))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "artifact src", inv.Services[0].Artifacts[0].Src, want)
}

// badCase is a file of testdata/bad and what its error must contain.
type badCase struct {
	file string
	want []string // substrings of the error; those starting with ":LINE:" are one problem each
}

// badInventories are TestBadInventories' cases.
func badInventories() []badCase {
	return slices.Concat(badHostInventories(), badServiceInventories(), badRolloutInventories())
}

// badHostInventories are the files wrong as a whole or in their defaults,
// hosts, bastions or groups.
func badHostInventories() []badCase {
	return []badCase{
		{"address_with_port", []string{`:3: hosts[0].address: "10.0.0.11:2222": give the address only`}},
		{"bad_host_name", []string{`:2: hosts[0].name: "web 1" is not a valid name`}},
		{"bastion_groups", []string{`:4: bastions[0].groups: unknown key "groups"; expected one of: name, address, user,`}},
		{"bastion_named_like_host", []string{`:5: hosts[0].name: duplicate name "web1", already used by bastions[0] (line 2); a host serves as a bastion by its name: drop the bastions entry`}},
		{"comment_only", []string{`:1: the file is empty`}},
		{"dropped_entries", []string{
			`:4: hosts[0]: empty entry`,
			`:5: hosts[1]: must be a mapping with keys name, address, groups, user,`,
			`:7: hosts[2].name: key "name" repeated (first at line 6)`,
			`:10: hosts[3].usr: unknown key "usr"; did you mean "user"?`,
			`:11: hosts[4].address: required`,
			`:12: hosts[4].port: 0 is out of range 1-65535`,
		}},
		{"duplicate_host", []string{`:6: hosts[2].name: duplicate name "web1", already used by hosts[0] (line 2)`}},
		{"duplicate_key", []string{`:4: hosts[0].address: key "address" repeated (first at line 3)`}},
		{"duration_without_unit", []string{`:2: defaults.connect_timeout: must be a duration with a unit, such as 10s or 2m, got "10"`}},
		{"empty", []string{`:1: the file is empty`}},
		{"group_is_host", []string{`:7: groups.web2: group "web2" has the name of a host`}},
		{"group_unknown_host", []string{`:7: groups.web[1]: unknown host "web3"; did you mean "web1"?`}},
		{"host_jump_cycle", []string{`:2: defaults.proxy_jump: proxy_jump cycle: web2 -> web1 -> web2`}},
		{"host_jump_self", []string{`:4: hosts[0].proxy_jump: proxy_jump cycle: web1 -> web1`}},
		{"host_jump_unknown", []string{`:6: hosts[1].proxy_jump: unknown bastion "wbe1"; did you mean "web1"?`}},
		{"many_mistakes", []string{
			`:3: defaults.port: 0 is out of range 1-65535`,
			`:4: defaults.agnet: unknown key "agnet"; did you mean "agent"?`,
			`:8: hosts[1].name: duplicate name "web1", already used by hosts[0] (line 6)`,
			`:10: hosts[2].address: required`,
			`:12: services[0].unit: "smart proxy": invalid character ' '`,
			`:15: services[0].artifacts[0].dest: "relative/path" must be an absolute path`,
			`:16: services[0].artifacts[0].mode: "0999" is not octal permission bits`,
			`:18: rollout.batch: 150% is more than 100%`,
			`:19: rollout.max_parallel: must be a whole number, got "many"`,
		}},
		{"missing_address", []string{`:6: hosts[2].address: required`}},
		{"missing_name", []string{`:2: hosts[0].name: required`}},
		{"no_hosts", []string{`:1: hosts: at least one host is required`}},
		{"not_mapping", []string{`:1: must be a mapping with keys defaults, bastions, hosts, groups, services, rollout, got a list`}},
		{"port_not_number", []string{`:4: hosts[0].port: must be a whole number, got "ssh"`}},
		{"port_range", []string{`:2: defaults.port: 70000 is out of range 1-65535`}},
		{"proxy_jump_cycle", []string{`:6: bastions[0].proxy_jump: proxy_jump cycle: jump1 -> jump2 -> jump1`}},
		{"proxy_jump_unknown", []string{`:7: hosts[0].proxy_jump: unknown bastion "jump2"; did you mean "jump1"?`}},
		{"same_machine", []string{`:5: hosts[1].address: 10.0.0.11 port 22 is the same machine as hosts[0] (web1)`}},
		{"second_document", []string{`:6: a second YAML document follows`}},
		{"syntax", []string{`:4: invalid YAML: did not find expected '-' indicator`}},
		{"tilde_user", []string{`:2: defaults.identity_files[0]: only ~ and ~/ are expanded, not ~user`}},
		{"unknown_host_key", []string{`:6: hosts[1].usr: unknown key "usr"; did you mean "user"?`}},
		{"unknown_top_key", []string{`:6: rollouts: unknown key "rollouts"; did you mean "rollout"?`}},
	}
}

// badServiceInventories are the files wrong in their services.
func badServiceInventories() []badCase {
	return []badCase{
		{"artifact_is_directory", []string{`:7: services[0].artifacts[0].src: `, `/testdata/files is not a regular file`}},
		{"bad_mode", []string{`:9: services[0].artifacts[0].mode: "rwxr-xr-x" is not octal permission bits`}},
		{"bad_owner", []string{`:9: services[0].artifacts[0].owner: "root;reboot" is not user or user:group`}},
		{"old_stop_timeout_zero", []string{`:7: services[0].restart.old_stop_timeout: must be positive, got 0s`}},
		{"dest_is_dropin", []string{`:8: services[0].artifacts[0].dest: /etc/systemd/system/smart-proxy.service.d/override.conf is also written by services[0].dropin`}},
		{"dotdot_dest", []string{`:8: services[0].artifacts[0].dest: "/usr/local/../../etc/shadow" must not contain ..`}},
		{"dropin_key", []string{`:9: services[0].dropin.settings.Kill-Mode: "Kill-Mode" is not a systemd setting name`}},
		{"dropin_name", []string{`:7: services[0].dropin.name: "../override.conf" must be a plain file name ending in .conf`}},
		{"dropin_no_value", []string{`:8: services[0].dropin.settings.KillMode: has no value; write "" to reset the setting`}},
		{"dropin_values", []string{
			`:8: services[0].dropin.settings.TimeoutStopSec: "[Unit]" is a section header, not a value`,
			`:9: services[0].dropin.settings.TimeoutStartSec: "20 seconds later" is not a systemd time span, such as 20s, 1min 30s or infinity`,
			`:10: services[0].dropin.settings.KillMode: "mixd" must be one of control-group, mixed, process, none; did you mean "mixed"?`,
			`:11: services[0].dropin.settings.KillSignal: "SIGTERMINATE" is not a signal, such as SIGTERM or 15`,
			`:12: services[0].dropin.settings.FinalKillSignal[1]: "99" is not a signal`,
			`:13: services[0].dropin.settings.SendSIGKILL: "maybe" is not a boolean`,
			`:17: services[0].dropin.settings.Environment: "[Unit]" is a section header`,
		}},
		{"dropin_unknown_setting", []string{
			`:8: services[0].dropin.settings.TimeoutStopSecs: systemd has no setting "TimeoutStopSecs" in [Service]; did you mean "TimeoutStopSec"?`,
			`:9: services[0].dropin.settings.Wants: systemd has no setting "Wants" in [Service]`,
			`:12: services[1].dropin.section: unknown unit file section "Sevice"; did you mean "Service"?`,
		}},
		{"dropin_value_newline", []string{`:8: services[0].dropin.settings.ExecStartPre: value must be one line`}},
		{"duplicate_dest", []string{`:12: services[1].artifacts[0].dest: /usr/local/bin/smart-proxy is also written by services[0].artifacts[0].dest`}},
		{"duplicate_unit", []string{`:6: services[1].unit: duplicate unit smart-proxy.service, already in services[0]`}},
		{"health_tcp", []string{`:7: services[0].health.tcp: "8080" is not host:port`}},
		{"health_timeout", []string{`:8: services[0].health.timeout: must be positive, got 0s`}},
		{"missing_artifact", []string{`:7: services[0].artifacts[0].src: `, `/testdata/files/no-such-build does not exist`}},
		{"mode_too_large", []string{`:9: services[0].artifacts[0].mode: "17777" is above 07777`}},
		{"verify_values", []string{
			`:7: services[0].verify.allow_sigkill: must be true or false, got "sometimes"`,
			`:8: services[0].verify.max_stop: must be positive, got 0s`,
			`:9: services[0].verify.min_in_flight: must be 0 or more, got -1`,
		}},
		{"no_services", []string{`:1: services: at least one service is required`}},
		{"relative_dest", []string{`:8: services[0].artifacts[0].dest: "usr/local/bin/smart-proxy" must be an absolute path`}},
		{"unclean_dest", []string{`:8: services[0].artifacts[0].dest: "/usr/local//bin/smart-proxy" is not a clean path; write "/usr/local/bin/smart-proxy"`}},
		{"unit_template", []string{`:5: services[0].unit: "getty@.service" is a template; name an instance`}},
		{"unit_with_command", []string{`:5: services[0].unit: "smart-proxy$(reboot).service": invalid character '$'`}},
		{"unit_with_space", []string{`:5: services[0].unit: "smart proxy.service": invalid character ' '`}},
		{"unknown_verify_key", []string{`:7: services[0].verify.max_stops: unknown key "max_stops"; did you mean "max_stop"?`}},
		{"service_selection", []string{
			`:7: services[0].hosts[1]: unknown host "hh2"; did you mean "h2"?`,
			`:7: services[0].hosts[2]: "edge" is a group; list it under groups`,
			`:8: services[0].groups[0]: unknown group "egde"; did you mean "edge"?`,
			`:8: services[0].groups[1]: "h3" is a host; list it under hosts`,
			`:10: services[1].groups: empty list; name at least one, or leave groups out`,
		}},
		{"host_unselected", []string{
			`:3: hosts[1]: no service applies to host h2: add it to a service's hosts or groups, or remove it`,
			`:9: services[1]: selects no host: its hosts and groups name none`,
		}},
		{"override_values", []string{
			`:6: services[0].overrides[0]: give hosts or groups: the hosts this override applies to`,
			`:7: services[0].overrides[1]: changes nothing: give dropin, artifacts, health, restart or verify`,
			`:9: services[0].overrides[2].dropin.settings.TimeoutStopSecs: systemd has no setting "TimeoutStopSecs" in [Service]; did you mean "TimeoutStopSec"?`,
			`:10: services[0].overrides[2].verify.max_stop: must be positive, got 0s`,
			`:11: services[0].overrides[2].health.tcp: "9090" is not host:port`,
			`:13: services[0].overrides[3].dropin.name: unknown key "name"; expected one of: settings`,
			`:16: services[0].overrides[4].artifacts[0].dest: /etc/systemd/system/smart-proxy.service.d/override.conf is also written by services[0].dropin`,
		}},
		{"templated", []string{
			`:2: hosts[0].address: ${HOST} looks like a variable, but inventory values are literal (no templating)`,
			`:7: services[0].dropin.settings.TimeoutStopSec: ${TIMEOUT} looks like a variable`,
			`:8: services[0].dropin.settings.Environment: $PATH looks like a variable`,
			`:11: services[0].health.command[1]: ${PORT} looks like a variable`,
			`:14: services[0].overrides[0].dropin.settings.KillMode: $MODE looks like a variable`,
		}},
		{"unknown_health_key", []string{`:8: services[0].health.retries: unknown key "retries"; expected one of: tcp, command, timeout`}},
	}
}

// badRolloutInventories are the files wrong in their rollout policy.
func badRolloutInventories() []badCase {
	return []badCase{
		{"batch_percent", []string{`:7: rollout.batch: 150% is more than 100%`}},
		{"batch_zero", []string{`:7: rollout.batch: must be at least 1 host or 1%`}},
		{"canary_negative", []string{`:7: rollout.canary: must be 0 (no canary) or more, got -1`}},
		{"restart_order", []string{`:7: rollout.restart: must be together or sequential, got "parallel"`}},
		{"failure_budget", []string{`:7: rollout.failure_budget: "-2" is not a number of hosts`}},
		{"max_parallel_zero", []string{`:7: rollout.max_parallel: must be at least 1, got 0`}},
		{"negative_confirm_timeout", []string{`:7: rollout.confirm_timeout: must be 0 (no guard) or more, got -1m0s`}},
		{"settle_negative", []string{`:7: rollout.settle: must be 0 (no wait) or more, got -1s`}},
		{"lock_lease_short", []string{`:7: rollout.lock_lease: must be at least 3s, got 2s`}},
		{"negative_timeout", []string{`:9: rollout.timeouts.reboot_up: must be positive, got -5m0s`}},
		{"on_failure", []string{`:7: rollout.on_failure: must be rollback or stop, got "revert"`}},
		{"reboot_inhibitors", []string{`:7: rollout.reboot_inhibitors: must be respect or ignore, got "wait"`}},
	}
}

// TestBadInventories loads each file of testdata/bad and expects
// each listed "file:line: field: message" in the error. Every file there
// must be listed, so none goes unchecked.
func TestBadInventories(t *testing.T) {
	tests := badInventories()

	files, err := filepath.Glob(filepath.Join(badDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	listed := make(map[string]bool)
	for _, tt := range tests {
		listed[tt.file] = true
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".yaml"); !listed[name] {
			t.Errorf("%s has no expectations in TestBadInventories", f)
		}
	}

	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(badDir, tt.file+".yaml")
			inv, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%s) = %+v, want an error", path, inv)
			}
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("error is %T, want *Error: %v", err, err)
			}
			// Every problem must point at a line of the file.
			lineRE := regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `:[1-9][0-9]*: \S`)
			for _, p := range ie.Problems {
				if !lineRE.MatchString(p.Error()) {
					t.Errorf("problem %q does not start with %s:LINE:", p.Error(), path)
				}
			}
			// The first substring of each want is anchored to the file name,
			// so a right message at the wrong line fails.
			for _, w := range tt.want {
				if strings.HasPrefix(w, ":") {
					w = path + w
				}
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q; got:\n%v", w, err)
				}
			}
			// One mistake, one problem: no echoes of the same mistake.
			if n := countAnchored(tt.want); len(ie.Problems) != n {
				t.Errorf("got %d problems, want %d:\n%v", len(ie.Problems), n, err)
			}
		})
	}
}

// countAnchored counts the wants that name a line, i.e. distinct problems.
func countAnchored(wants []string) int {
	n := 0
	for _, w := range wants {
		if strings.HasPrefix(w, ":") {
			n++
		}
	}
	return n
}

func TestProblemsAreErrors(t *testing.T) {
	_, err := Load(filepath.Join(badDir, "many_mistakes.yaml"))
	var p Problem
	if !errors.As(err, &p) {
		t.Fatalf("errors.As(%T, *Problem) = false", err)
	}
	want := Problem{Path: filepath.Join(badDir, "many_mistakes.yaml"), Line: 3, Field: "defaults.port", Msg: "0 is out of range 1-65535"}
	equal(t, "first problem", p, want)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestDefaults(t *testing.T) {
	inv := mustLoad(t, filepath.Join(goodDir, "minimal.yaml"))
	yes, no := true, false
	equal(t, "defaults", inv.Defaults, Conn{
		User: "root", Port: 22, Agent: &yes, KnownHosts: []string{"~/.ssh/known_hosts"},
		ConnectTimeout: 10 * time.Second, Become: &no, BecomePassword: &no,
	})
	equal(t, "rollout", inv.Rollout, DefaultPolicy())
	equal(t, "policy", DefaultPolicy().Batch, Amount{N: 25, Percent: true})
	equal(t, "lock lease", DefaultPolicy().LockLease, 2*time.Minute)
	svc := inv.Services[0]
	equal(t, "drop-in", svc.DropIn, DefaultDropIn())
	equal(t, "health", svc.Health, Health{Timeout: 15 * time.Second})
	equal(t, "artifacts", len(svc.Artifacts), 0)
	equal(t, "host line", inv.Hosts[0].Line, 2)
}

func TestFullInventory(t *testing.T) {
	inv := mustLoad(t, filepath.Join(goodDir, "full.yaml"))
	equal(t, "units", []string{inv.Services[0].Unit, inv.Services[1].Unit}, []string{"smart-proxy.service", "smart-upstream.service"})
	rwx, setuid := fs.FileMode(0o755), fs.ModeSetuid|0o750
	files, err := filepath.Abs("testdata/files/smart-proxy")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "artifacts", inv.Services[0].Artifacts, []Artifact{
		{Src: files, Dest: "/usr/local/bin/smart-proxy", Mode: &rwx},
		{Src: files, Dest: "/usr/local/sbin/smart-helper", Mode: &setuid, Owner: "root"},
	})
	equal(t, "drop-in", inv.Services[0].DropIn, DropIn{
		Name: "10-fleetfix.conf", Section: "Service",
		Settings: []Setting{
			{"ExecStart", ""}, {"ExecStart", "/usr/local/bin/smart-proxy --pool 4"},
			{"Restart", "on-failure"}, {"LimitNOFILE", "65536"}, {"Environment", ""},
		},
	})
	equal(t, "health", inv.Services[0].Health, Health{Command: []string{"/usr/local/bin/smart-proxy", "--check"}, Timeout: 30 * time.Second})
	equal(t, "second service drop-in", inv.Services[1].DropIn, DefaultDropIn())
	equal(t, "verify", inv.Services[0].Verify, Verify{AllowSIGKILL: true, MaxStop: 2 * time.Second, MinInFlight: 1})
	equal(t, "second service verify", inv.Services[1].Verify, Verify{})

	want := DefaultPolicy()
	want.Canary, want.Batch, want.FailureBudget, want.Reboot = 0, Amount{N: 2}, Amount{N: 10, Percent: true}, false
	want.OnFailure = OnFailureStop
	want.Timeouts.RebootUp = 10 * time.Minute
	want.ConfirmTimeout = 90 * time.Second
	want.LockLease = 45 * time.Second
	want.Settle = 5 * time.Second
	equal(t, "rollout", inv.Rollout, want)

	equal(t, "groups", inv.Groups, map[string][]string{
		"canary": {"web1"}, "web": {"web1", "web2", "web3"}, "db": {"db1"}, "empty": {},
	})
	var hostGroups [][]string
	for _, h := range inv.Hosts {
		hostGroups = append(hostGroups, h.Groups)
	}
	equal(t, "host groups", hostGroups, [][]string{{"canary", "web"}, {"web"}, {"db"}, {"web"}})
	equal(t, "bastion lines", []int{inv.Bastions[0].Line, inv.Bastions[1].Line}, []int{9, 13})
}

func TestAnchors(t *testing.T) {
	inv := mustLoad(t, filepath.Join(goodDir, "anchors.yaml"))
	var got []string
	for _, h := range inv.Hosts {
		rc := inv.Resolve(h)
		got = append(got, rc.Name+" "+rc.Address+" "+rc.User+" "+strings.Join(h.Groups, ",")+" "+strconv.Itoa(rc.Port))
	}
	equal(t, "hosts", got, []string{
		"web1 10.0.0.11 root web 2222",
		"web2 10.0.0.12 jump web 2222", // merged from web1, overriding name and address
		"web3 10.0.0.13 root web 22",
	})
}

// TestMergeKeys checks that "<<" merges as yaml.v3 decodes it: the entry's
// own keys win wherever the "<<" stands, and the first of a list of merged
// mappings wins.
func TestMergeKeys(t *testing.T) {
	doc := `hosts:
  - &a {name: a, address: 10.0.0.1, port: 2201, user: ua}
  - &b {name: b, address: 10.0.0.2, port: 2202, become: yes}
  - {<<: [*a, *b], name: c, address: 10.0.0.3}
  - {name: d, <<: *a, address: 10.0.0.4, port: 2204}
services: [{unit: x}]
`
	inv, err := Parse("inventory.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range inv.Hosts {
		rc := inv.Resolve(h)
		got = append(got, fmt.Sprintf("%s %s:%d %s become=%t line %d", rc.Name, rc.Address, rc.Port, rc.User, rc.Become, h.Line))
	}
	equal(t, "hosts", got, []string{
		"a 10.0.0.1:2201 ua become=false line 2",
		"b 10.0.0.2:2202 root become=true line 3",
		"c 10.0.0.3:2201 ua become=true line 4",
		"d 10.0.0.4:2204 ua become=false line 5",
	})
}

func TestNormalizeUnit(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: "smart-proxy", want: "smart-proxy.service"},
		{in: "smart-proxy.service", want: "smart-proxy.service"},
		{in: "php8.2-fpm", want: "php8.2-fpm.service"}, // like systemctl: ".2-fpm" is no unit type
		{in: "backup.timer", want: "backup.timer"},
		{in: "getty@tty1.service", want: "getty@tty1.service"},
		{in: `systemd-cryptsetup@luks\x2droot.service`, want: `systemd-cryptsetup@luks\x2droot.service`},
		{in: "", wantErr: "required"},
		{in: "smart proxy.service", wantErr: "invalid character ' '"},
		{in: "smart-proxy;reboot", wantErr: "invalid character ';'"},
		{in: "a/b.service", wantErr: "invalid character '/'"},
		{in: "`reboot`", wantErr: "invalid character '`'"},
		{in: `"x".service`, wantErr: `invalid character '"'`},
		{in: "-x.service", wantErr: "must not start with"},
		{in: ".service", wantErr: "must not start with"},
		{in: "@x.service", wantErr: "nothing before @"},
		{in: "getty@.service", wantErr: "is a template"},
		{in: strings.Repeat("a", 248), wantErr: "longer than 255"},
		{in: strings.Repeat("a", 247), want: strings.Repeat("a", 247) + ".service"},
	}
	for _, tt := range tests {
		got, err := normalizeUnit(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("normalizeUnit(%q) = %q, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("normalizeUnit(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		yaml    string
		want    fs.FileMode
		wantErr bool
	}{
		{yaml: `"0755"`, want: 0o755},
		{yaml: `0755`, want: 0o755},
		{yaml: `0o644`, want: 0o644},
		{yaml: `755`, want: 0o755}, // octal, as chmod reads it
		{yaml: `"2775"`, want: fs.ModeSetgid | 0o775},
		{yaml: `"1777"`, want: fs.ModeSticky | 0o777},
		{yaml: `"7777"`, want: fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky | 0o777},
		{yaml: `"10000"`, wantErr: true},
		{yaml: `"0855"`, wantErr: true},
		{yaml: `"-755"`, wantErr: true},
		{yaml: `0x1ed`, wantErr: true},
		{yaml: `[7, 5, 5]`, wantErr: true},
		{yaml: `""`, wantErr: true},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		mustWrite(t, filepath.Join(dir, "f"), "")
		doc := "hosts: [{name: a, address: 10.0.0.1}]\nservices:\n- unit: x\n  artifacts: [{src: f, dest: /f, mode: " + tt.yaml + "}]\n"
		inv, err := Parse(filepath.Join(dir, "inventory.yaml"), []byte(doc))
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), ":4: services[0].artifacts[0].mode: ") {
				t.Errorf("mode %s: error = %v, want a mode problem on line 4", tt.yaml, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("mode %s: %v", tt.yaml, err)
			continue
		}
		if got := inv.Services[0].Artifacts[0].Mode; got == nil || *got != tt.want {
			t.Errorf("mode %s = %v, want %v", tt.yaml, got, tt.want)
		}
	}
}

// TestUnknownKeysEverywhere makes sure the strict decode reaches every
// level, including inline connection keys and sections decoded as nodes.
func TestUnknownKeysEverywhere(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "f"), "")
	base := map[string]string{
		"defaults": "defaults: {usr: x}",
		"bastion":  "bastions: [{name: b, address: 10.0.0.9, prot: 22}]",
		"host":     "hosts: [{name: a, address: 10.0.0.1, adress: x}]",
		"service":  "services: [{unit: x, health: {tcp: '127.0.0.1:1'}, reboot: true}]",
		"restart":  "services: [{unit: x, restart: {old_stop: 1s}}]",
		"artifact": "services: [{unit: x, artifacts: [{src: f, dest: /f, perms: '0755'}]}]",
		"dropin":   "services: [{unit: x, dropin: {file: a.conf}}]",
		"health":   "services: [{unit: x, health: {http: 'localhost:80'}}]",
		"rollout":  "rollout: {canaries: 1}",
		"timeouts": "rollout: {timeouts: {reboot: 1s}}",
	}
	for name, line := range base {
		t.Run(name, func(t *testing.T) {
			doc := line + "\n"
			if !strings.HasPrefix(line, "hosts") {
				doc += "hosts: [{name: a, address: 10.0.0.1}]\n"
			}
			if !strings.HasPrefix(line, "services") {
				doc += "services: [{unit: x}]\n"
			}
			_, err := Parse(filepath.Join(dir, "inventory.yaml"), []byte(doc))
			if err == nil || !strings.Contains(err.Error(), "inventory.yaml:1: ") || !strings.Contains(err.Error(), "unknown key") {
				t.Errorf("%s: error = %v, want an unknown key on line 1", doc, err)
			}
		})
	}
}

// TestDecodeErrorPaths checks that type mistakes name the right element
// even in flow style, where many elements share one line, and that each
// mistake is one problem.
func TestDecodeErrorPaths(t *testing.T) {
	const svc = "services: [{unit: x}]\n"
	tests := []struct{ doc, want string }{
		{"hosts: {a: 1}\n" + svc, `:1: hosts: must be a list, got a mapping`},
		{"hosts: [{name: a, address: 10.0.0.1, groups: [b, {c: d}]}]\n" + svc, `:1: hosts[0].groups[1]: must be a single value, got a mapping`},
		{"hosts: [{name: a, address: 10.0.0.1, port: {x: 1}}]\n" + svc, `:1: hosts[0].port: must be a whole number, got a mapping`},
		{"hosts: [{name: a, address: 10.0.0.1, agent: maybe}]\n" + svc, `:1: hosts[0].agent: must be true or false, got "maybe"`},
		{"hosts: [{name: a, address: 10.0.0.1}]\nservices: [{unit: x, artifacts: {src: a}}]\n", `:2: services[0].artifacts: must be a list, got a mapping`},
		{"hosts: [{name: a, address: 10.0.0.1}]\ngroups: [a]\n" + svc, `:2: groups: must be a mapping of names to lists, got a list`},
		{"hosts: [{name: a, address: 10.0.0.1}]\n" + svc + "rollout: {timeouts: {push: 3}}\n", `:3: rollout.timeouts.push: must be a duration with a unit`},
		{"hosts: [{name: a, address: 10.0.0.1, port: \"" + strings.Repeat("9", 50) + "\"}]\n" + svc, `:1: hosts[0].port: must be a whole number, got "` + strings.Repeat("9", 37) + `..."`},
		{"hosts: [{name: a, address: 10.0.0.1, [x]: 1}]\n" + svc, `:1: hosts[0]: keys must be single values, got a list`},
		{"hosts:\n- name: a\n  address:\n" + svc, `:3: hosts[0].address: required`},
		{"hosts: [{<<: 5, name: a, address: 10.0.0.1}]\n" + svc, `:1: hosts[0].<<: must be a mapping or a list of mappings to merge, got "5"`},
		// An anchor's mistake is said once, where the anchor is, however
		// often it is merged or aliased.
		{"hosts:\n- {name: a, address: 10.0.0.1, port: &p ssh}\n- {name: b, address: 10.0.0.2, port: *p}\n" + svc, `:2: hosts[0].port: must be a whole number, got "ssh"`},
		{"hosts:\n- &h {name: a, address: 10.0.0.1, prot: 2}\n- {<<: *h, name: b, address: 10.0.0.2}\n" + svc, `:2: hosts[0].prot: unknown key "prot"; did you mean "port"?`},
	}
	for _, tt := range tests {
		_, err := Parse("inventory.yaml", []byte(tt.doc))
		var ie *Error
		if !errors.As(err, &ie) || len(ie.Problems) != 1 || !strings.Contains(err.Error(), "inventory.yaml"+tt.want) {
			t.Errorf("%s: error = %v, want the one problem %q", tt.doc, err, tt.want)
		}
	}
}

func mustLoad(t *testing.T, path string) *Inventory {
	t.Helper()
	inv, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return inv
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}
