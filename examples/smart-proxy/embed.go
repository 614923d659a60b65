// Package smartproxy embeds fleetfix's demo service: smart-proxy, a Python
// asyncio TCP proxy that ignores SIGTERM in practice (its stop handler waits
// for connection tasks parked on idle reads), so systemd waits out
// TimeoutStopSec (90 s by default) and SIGKILLs it on every reboot.
//
// The lab installs these files into test hosts: one of the two proxy builds as
// /usr/local/bin/smart-proxy, Upstream as /usr/local/bin/smart-upstream, the
// two units under /etc/systemd/system/ and DropIn as
// /etc/systemd/system/smart-proxy.service.d/override.conf; and the second
// hanging service, rule-proxy (listening on 8081, its rule feed the same
// upstream), as /usr/local/bin/rule-proxy and rule-proxy.service.
package smartproxy

import _ "embed"

// Buggy is smart-proxy 1.0.0: on SIGTERM it waits forever for its idle
// handler tasks and only dies to systemd's SIGKILL.
//
//go:embed buggy/smart-proxy
var Buggy []byte

// Fixed is smart-proxy 1.0.1: on SIGTERM it cancels its handler tasks, aborts
// their sockets and exits 0 well under a second (hard exit after 2 s at most).
//
//go:embed fixed/smart-proxy
var Fixed []byte

// Upstream is smart-upstream, the echo server smart-proxy forwards to.
//
//go:embed smart-upstream
var Upstream []byte

// ProxyUnit is smart-proxy.service (default TimeoutStopSec/KillMode: the bug).
//
//go:embed smart-proxy.service
var ProxyUnit []byte

// UpstreamUnit is smart-upstream.service.
//
//go:embed smart-upstream.service
var UpstreamUnit []byte

// RuleBuggy is rule-proxy 2.3.0, the demo's second service: the same bug
// (on SIGTERM it waits for handler tasks parked on idle reads of its rule
// feed) in a service of its own.
//
//go:embed rule/buggy/rule-proxy
var RuleBuggy []byte

// RuleFixed is rule-proxy 2.3.1: the same fix (cancel the handlers, abort
// their sockets).
//
//go:embed rule/fixed/rule-proxy
var RuleFixed []byte

// RuleUnit is rule-proxy.service (default TimeoutStopSec/KillMode: the bug).
//
//go:embed rule/rule-proxy.service
var RuleUnit []byte

// DropIn is the smart-proxy.service.d/override.conf drop-in that bounds the
// stop: TimeoutStopSec=20s, KillMode=mixed.
//
//go:embed override.conf
var DropIn []byte

// Install paths the lab uses for the embedded files.
const (
	ProxyPath        = "/usr/local/bin/smart-proxy"
	UpstreamPath     = "/usr/local/bin/smart-upstream"
	ProxyUnitPath    = "/etc/systemd/system/smart-proxy.service"
	UpstreamUnitPath = "/etc/systemd/system/smart-upstream.service"
	DropInPath       = "/etc/systemd/system/smart-proxy.service.d/override.conf"
	RulePath         = "/usr/local/bin/rule-proxy"
	RuleUnitPath     = "/etc/systemd/system/rule-proxy.service"
)
