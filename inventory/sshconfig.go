package inventory

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/sshcfg"
)

// Where a resolved value came from (ResolvedConn.Origin); a value from
// ssh_config is "ssh_config FILE:LINE".
const (
	FromHost     = "inventory host"
	FromDefaults = "inventory defaults"
	FromBuiltin  = "default"
)

// ResolveSSH is Resolve with the operator's ssh_config (nil for none, or
// when the inventory says ssh_config: false) between the inventory's
// defaults and fleetfix's built-in ones. address is the alias looked up.
// The error names the ssh_config line a value it cannot use came from.
func (inv *Inventory) ResolveSSH(h Target, sc *sshcfg.Config) (ResolvedConn, error) {
	return inv.resolveWith(h, sc, false)
}

// Explain is ResolveSSH with ResolvedConn.Origin filled in, for every
// machine of the chain.
func (inv *Inventory) Explain(h Target, sc *sshcfg.Config) (ResolvedConn, error) {
	return inv.resolveWith(h, sc, true)
}

func (inv *Inventory) resolveWith(h Target, sc *sshcfg.Config, explain bool) (ResolvedConn, error) {
	if !inv.SSHConfig {
		sc = nil
	}
	_, isBastion := inv.bastion(h.Name)
	return inv.resolve(h, isBastion, sc, explain, len(inv.Bastions)+len(inv.Hosts)+maxConfigJumps)
}

// maxConfigJumps bounds the hops an ssh_config ProxyJump chain may add.
const maxConfigJumps = 8

// layers are the sources of one machine's settings, highest first.
type layers struct {
	host, defs Conn // defs: the defaults section's own keys
	sc         sshcfg.Host
	origin     map[string]string // nil: not recorded
}

func (ly *layers) note(field, from string) {
	if ly.origin != nil {
		ly.origin[field] = from
	}
}

// inventory notes the inventory layer a value comes from, if any.
func (ly *layers) inventory(field string, onHost, onDefs bool) bool {
	switch {
	case onHost:
		ly.note(field, FromHost)
	case onDefs:
		ly.note(field, FromDefaults)
	default:
		return false
	}
	return true
}

// config returns ssh_config's value of keyword for field, if it sets one.
func (ly *layers) config(field, keyword string) (sshcfg.Setting, bool) {
	s, ok := ly.sc.Get(keyword)
	if ok {
		ly.note(field, "ssh_config "+s.From())
	}
	return s, ok
}

func (ly *layers) builtin(field string) { ly.note(field, FromBuiltin) }

// configErr names the ssh_config line whose value cannot be used.
func configErr(s sshcfg.Setting, keyword string, err error) error {
	return fmt.Errorf("ssh_config %s: %s %q: %w", s.From(), keyword, s.Value, err)
}

// endpoint resolves address, user and port: what the %-tokens of the
// other values need.
func (inv *Inventory) endpoint(ly *layers, rc *ResolvedConn) error {
	d := ly.defs
	ly.note("address", FromHost)
	if s, ok := ly.config("address", sshcfg.HostName); ok {
		a, err := sshcfg.Expand(s.Value, sshcfg.Tokens{'h': rc.Address, 'n': rc.Address})
		if err != nil {
			return configErr(s, "HostName", err)
		}
		rc.Alias, rc.Address = rc.Address, a
	}
	if ly.inventory("user", ly.host.User != "", d.User != "") {
		rc.User = cmp.Or(ly.host.User, d.User)
	} else if s, ok := ly.config("user", sshcfg.User); ok {
		if !userRE.MatchString(s.Value) {
			return configErr(s, "User", fmt.Errorf("not a valid user name"))
		}
		rc.User = s.Value
	} else {
		rc.User = defaultUser
		ly.builtin("user")
	}
	if ly.inventory("port", ly.host.Port != 0, d.Port != 0) {
		rc.Port = cmp.Or(ly.host.Port, d.Port)
	} else if s, ok := ly.config("port", sshcfg.Port); ok {
		n, err := strconv.Atoi(s.Value)
		if err != nil || n < 1 || n > 65535 {
			return configErr(s, "Port", fmt.Errorf("want 1-65535"))
		}
		rc.Port = n
	} else {
		rc.Port = defaultPort
		ly.builtin("port")
	}
	return nil
}

// keys resolves what is offered to authenticate: identity files, their
// certificates and the agent.
func (inv *Inventory) keys(ly *layers, rc *ResolvedConn, t sshcfg.Tokens) error {
	h, d := ly.host, ly.defs
	if ly.inventory("identity_files", h.IdentityFiles != nil, d.IdentityFiles != nil) {
		rc.IdentityFiles = inv.expandPaths(d.IdentityFiles)
		if h.IdentityFiles != nil {
			rc.IdentityFiles = inv.expandPaths(h.IdentityFiles)
		}
	} else if all := ly.sc.All(sshcfg.IdentityFile); len(all) > 0 {
		ly.note("identity_files", "ssh_config "+all[0].From())
		files, err := expandSettings(all, "IdentityFile", t)
		if err != nil {
			return err
		}
		rc.IdentityFiles = files
	} else {
		ly.builtin("identity_files")
	}
	if all := ly.sc.All(sshcfg.CertificateFile); len(all) > 0 {
		ly.note("certificate_files", "ssh_config "+all[0].From())
		files, err := expandSettings(all, "CertificateFile", t)
		if err != nil {
			return err
		}
		rc.CertificateFiles = files
	}
	if s, ok := ly.config("identities_only", sshcfg.IdentitiesOnly); ok {
		rc.IdentitiesOnly = strings.EqualFold(s.Value, "yes")
	}
	rc.Agent = true
	if ly.inventory("agent", h.Agent != nil, d.Agent != nil) {
		rc.Agent = *cmp.Or(h.Agent, d.Agent)
	} else {
		ly.builtin("agent")
	}
	if s, ok := ly.sc.Get(sshcfg.IdentityAgent); ok && rc.Agent {
		ly.note("agent", "ssh_config "+s.From())
		switch s.Value {
		case "none":
			rc.Agent = false
		case "SSH_AUTH_SOCK":
		default:
			sock, err := sshcfg.Expand(s.Value, t)
			if err != nil {
				return configErr(s, "IdentityAgent", err)
			}
			rc.AgentSocket = sock
		}
	}
	return nil
}

func expandSettings(all []sshcfg.Setting, keyword string, t sshcfg.Tokens) ([]string, error) {
	var out []string
	for _, s := range all {
		if s.Value == "none" {
			continue
		}
		p, err := sshcfg.Expand(s.Value, t)
		if err != nil {
			return nil, configErr(s, keyword, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// hostKeys resolves how the host key is checked and recorded.
func (inv *Inventory) hostKeys(ly *layers, rc *ResolvedConn, t sshcfg.Tokens) error {
	h, d := ly.host, ly.defs
	fromInventory := ly.inventory("known_hosts", h.KnownHosts != nil, d.KnownHosts != nil)
	switch s, ok := ly.sc.Get(sshcfg.UserKnownHostsFile); {
	case fromInventory:
		rc.KnownHosts = inv.expandPaths(d.KnownHosts)
		if h.KnownHosts != nil {
			rc.KnownHosts = inv.expandPaths(h.KnownHosts)
		}
	case ok && s.Value != "none":
		ly.note("known_hosts", "ssh_config "+s.From())
		var err error
		if rc.KnownHosts, err = expandFields(s, "UserKnownHostsFile", t); err != nil {
			return err
		}
	default:
		ly.builtin("known_hosts")
		rc.KnownHosts = inv.expandPaths([]string{defaultKnownHosts})
	}
	// An inventory that names its files means those: ssh_config's global
	// files would add keys it does not trust.
	if s, ok := ly.config("global_known_hosts", sshcfg.GlobalKnownHostsFile); ok && !fromInventory && s.Value != "none" {
		global, err := expandFields(s, "GlobalKnownHostsFile", t)
		if err != nil {
			return err
		}
		rc.KnownHosts = append(rc.KnownHosts, global...)
	}
	// Only ever stricter: "no" and "accept-new" are noted, not followed.
	if s, ok := ly.config("strict_host_key_checking", sshcfg.StrictHostKeyChecking); ok {
		rc.StrictHostKeys = strings.EqualFold(s.Value, "yes")
	}
	if s, ok := ly.config("hash_known_hosts", sshcfg.HashKnownHosts); ok {
		rc.HashKnownHosts = strings.EqualFold(s.Value, "yes")
	}
	return nil
}

func expandFields(s sshcfg.Setting, keyword string, t sshcfg.Tokens) ([]string, error) {
	var out []string
	for _, f := range strings.Fields(s.Value) {
		p, err := sshcfg.Expand(f, t)
		if err != nil {
			return nil, configErr(s, keyword, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// timing resolves the connect timeout, handshake limit and retries, and
// the keepalive interval.
func (inv *Inventory) timing(ly *layers, rc *ResolvedConn) error {
	h, d := ly.host, ly.defs
	if ly.inventory("connect_timeout", h.ConnectTimeout != 0, d.ConnectTimeout != 0) {
		rc.ConnectTimeout = cmp.Or(h.ConnectTimeout, d.ConnectTimeout)
	} else if s, ok := ly.config("connect_timeout", sshcfg.ConnectTimeout); ok {
		d, err := seconds(s, "ConnectTimeout")
		if err != nil {
			return err
		}
		rc.ConnectTimeout = cmp.Or(d, defaultConnectTimeout)
	} else {
		ly.builtin("connect_timeout")
		rc.ConnectTimeout = defaultConnectTimeout
	}
	rc.MaxStartups, rc.ConnectRetries = defaultMaxStartups, defaultConnectRetries
	if ly.inventory("max_startups", h.MaxStartups != 0, d.MaxStartups != 0) {
		rc.MaxStartups = cmp.Or(h.MaxStartups, d.MaxStartups)
	}
	if ly.inventory("connect_retries", h.ConnectRetries != nil, d.ConnectRetries != nil) {
		rc.ConnectRetries = *cmp.Or(h.ConnectRetries, d.ConnectRetries)
	}
	if s, ok := ly.config("keepalive", sshcfg.ServerAliveInterval); ok {
		d, err := seconds(s, "ServerAliveInterval")
		if err != nil {
			return err
		}
		rc.KeepAlive = d
	} else {
		ly.builtin("keepalive")
	}
	return nil
}

func seconds(s sshcfg.Setting, keyword string) (time.Duration, error) {
	n, err := strconv.Atoi(s.Value)
	if err != nil || n < 0 {
		return 0, configErr(s, keyword, fmt.Errorf("want whole seconds"))
	}
	return time.Duration(n) * time.Second, nil
}

// proxy is how a machine is reached: through a named machine (Jump), an
// ssh_config ProxyJump chain, a command, or directly.
type proxy struct {
	jump    string         // inventory name, or an ssh_config ProxyJump list
	command string         // ProxyCommand line
	from    sshcfg.Setting // set when ssh_config decided
	config  bool           // jump is an ssh_config ProxyJump list
}

// chooseProxy applies the precedence to proxy_jump and proxy_command
// together: the highest layer that sets either decides, and "none" there
// means direct. A bastion, and the host the default names, do not inherit
// the default.
func (inv *Inventory) chooseProxy(ly *layers, name string, isBastion bool) proxy {
	h, d := ly.host, ly.defs
	switch {
	case h.ProxyJump != "" || h.ProxyCommand != "":
		ly.note("proxy", FromHost)
		return proxy{jump: h.ProxyJump, command: h.ProxyCommand}
	case !isBastion && d.ProxyJump != name && (d.ProxyJump != "" || d.ProxyCommand != ""):
		ly.note("proxy", FromDefaults)
		return proxy{jump: d.ProxyJump, command: d.ProxyCommand}
	}
	if s, ok := ly.config("proxy", sshcfg.ProxyJump); ok {
		return proxy{jump: s.Value, from: s, config: true}
	}
	if s, ok := ly.config("proxy", sshcfg.ProxyCommand); ok {
		return proxy{command: s.Value, from: s}
	}
	ly.builtin("proxy")
	return proxy{}
}

// via resolves p into rc: its Jump chain or its ProxyCommand argv.
func (inv *Inventory) via(p proxy, rc *ResolvedConn, sc *sshcfg.Config, t sshcfg.Tokens, explain bool, hops int) error {
	switch {
	case p.command != "" && p.command != ProxyJumpNone:
		argv, err := sshcfg.Command(p.command, t)
		if err != nil {
			if p.from.File != "" {
				return configErr(p.from, "ProxyCommand", err)
			}
			return fmt.Errorf("proxy_command: %w", err)
		}
		rc.ProxyCommand = argv
	case p.jump == "" || p.jump == ProxyJumpNone || hops <= 0:
	case !p.config:
		if b, ok := inv.bastion(p.jump); ok {
			j, err := inv.resolve(b, true, sc, explain, hops-1)
			rc.Jump = &j
			return err
		} else if m, ok := inv.host(p.jump); ok {
			j, err := inv.resolve(m, false, sc, explain, hops-1)
			rc.Jump = &j
			return err
		}
	default:
		return inv.configJumps(p, rc, sc, explain, hops)
	}
	return nil
}

// configJumps resolves an ssh_config ProxyJump list, [user@]host[:port]
// hops in the order they are connected, each hop an inventory machine of
// that name or else a bastion of its own, resolved through ssh_config too.
func (inv *Inventory) configJumps(p proxy, rc *ResolvedConn, sc *sshcfg.Config, explain bool, hops int) error {
	var prev *ResolvedConn
	for _, spec := range strings.Split(p.jump, ",") {
		t, err := jumpTarget(strings.TrimSpace(spec))
		if err != nil {
			return configErr(p.from, "ProxyJump", err)
		}
		if m, ok := inv.bastion(t.Name); ok {
			t = m
		} else if m, ok := inv.host(t.Name); ok {
			t = m
		}
		j, err := inv.resolve(t, true, sc, explain, hops-1)
		if err != nil {
			return err
		}
		if prev != nil {
			j.Jump = prev
		}
		prev = &j
	}
	rc.Jump = prev
	return nil
}

// jumpTarget reads one ProxyJump hop, [user@]host[:port].
func jumpTarget(spec string) (Target, error) {
	user, host, hasUser := strings.Cut(spec, "@")
	if !hasUser {
		user, host = "", spec
	}
	var port int
	if h, ps, ok := strings.Cut(host, ":"); ok {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("port %q: want 1-65535", ps)
		}
		host, port = h, n
	}
	if host == "" || !hostnameRE.MatchString(host) {
		return Target{}, fmt.Errorf("%q is not [user@]host[:port]", spec)
	}
	return Target{Name: host, Address: host, Conn: Conn{User: user, Port: port}}, nil
}
