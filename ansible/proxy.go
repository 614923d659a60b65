package ansible

import (
	"fmt"
	"strconv"
	"strings"
)

// proxy reads the jump hosts of ansible_ssh_common_args and
// ansible_ssh_extra_args (-o ProxyJump=, -J, or a ProxyCommand of the form
// ssh -W %h:%p BASTION) and returns the name of the bastion to use, adding
// the bastions the chain needs. Other ssh options are warnings.
func (m *mapper) proxy(host string, args ...string) string {
	var jump string
	for _, a := range args {
		if a == "" {
			continue
		}
		tok, err := shlexSplit(a)
		if err != nil {
			m.warn("%s: ssh arguments %q not carried over: %v", host, a, err)
			continue
		}
		for i := 0; i < len(tok); i++ {
			opt := tok[i]
			switch {
			case opt == "-o" && i+1 < len(tok):
				i++
				opt = tok[i]
			case strings.HasPrefix(opt, "-o"):
				opt = opt[2:]
			case opt == "-J" && i+1 < len(tok):
				i++
				opt = "ProxyJump=" + tok[i]
			default:
				m.warn("%s: ssh argument %q not carried over: fleetfix reads only -o ProxyJump= and -o ProxyCommand= from ansible_ssh_common_args", host, opt)
				continue
			}
			k, v, _ := strings.Cut(opt, "=")
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "proxyjump":
				jump = v
			case "proxycommand":
				if j, ok := proxyCommandJump(v); ok {
					jump = j
				} else {
					m.warn("%s: ProxyCommand %q not carried over: fleetfix reaches hosts through bastions (proxy_jump) only; the host would connect directly", host, v)
				}
			default:
				m.warn("%s: ssh option %q not carried over", host, opt)
			}
		}
	}
	if jump == "" || strings.EqualFold(jump, "none") {
		return ""
	}
	prev := ""
	for _, hop := range strings.Split(jump, ",") {
		name, err := m.bastion(hop, prev)
		if err != nil {
			m.warn("%s: jump host %q not carried over: %v", host, hop, err)
			return ""
		}
		prev = name
	}
	return prev
}

// proxyCommandJump reads "ssh [-q] [-p PORT] [-l USER] -W %h:%p [USER@]HOST"
// as the jump [USER@]HOST[:PORT].
func proxyCommandJump(cmd string) (string, bool) {
	tok, err := shlexSplit(cmd)
	if err != nil || len(tok) < 3 || tok[0] != "ssh" && !strings.HasSuffix(tok[0], "/ssh") {
		return "", false
	}
	var user, port, dest string
	forward := false
	for i := 1; i < len(tok); i++ {
		switch t := tok[i]; {
		case t == "-q":
		case t == "-W" && i+1 < len(tok) && tok[i+1] == "%h:%p":
			forward = true
			i++
		case t == "-p" && i+1 < len(tok):
			port = tok[i+1]
			i++
		case t == "-l" && i+1 < len(tok):
			user = tok[i+1]
			i++
		case !strings.HasPrefix(t, "-") && dest == "":
			dest = t
		default:
			return "", false
		}
	}
	if !forward || dest == "" {
		return "", false
	}
	if user != "" && !strings.Contains(dest, "@") {
		dest = user + "@" + dest
	}
	if port != "" {
		dest += ":" + port
	}
	return dest, true
}

// bastion adds (or finds) the bastion for one jump hop [user@]host[:port],
// reached through the bastion named via, and returns its name. A hop that
// is an inventory host with nothing else set names that host, which
// fleetfix accepts as a bastion.
func (m *mapper) bastion(hop, via string) (string, error) {
	user, hostport, ok := strings.Cut(strings.TrimSpace(hop), "@")
	if !ok {
		user, hostport = "", user
	}
	addr, port := hostport, 0
	if h, p, ok := strings.Cut(hostport, ":"); ok && !strings.Contains(p, ":") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("port %q", p)
		}
		addr, port = h, n
	}
	if addr == "" {
		return "", fmt.Errorf("no host")
	}
	if user == "" && port == 0 && via == "" {
		if _, isHost := m.inv.hosts[addr]; isHost && fleetNameRE.MatchString(addr) {
			return addr, nil
		}
	}
	want := Target{Address: addr, User: user, Port: port, ProxyJump: via}
	for _, b := range m.fleet.Bastions {
		if b.Address == want.Address && b.User == want.User && b.Port == want.Port && b.ProxyJump == want.ProxyJump {
			return b.Name, nil
		}
	}
	base := m.fleetName(addr, "bastion")
	want.Name = base
	for n := 2; m.nameTaken(want.Name); n++ {
		want.Name = fmt.Sprintf("%s-%d", base, n)
	}
	m.fleet.Bastions = append(m.fleet.Bastions, want)
	return want.Name, nil
}

func (m *mapper) nameTaken(name string) bool {
	if _, ok := m.inv.hosts[name]; ok {
		return true
	}
	for _, b := range m.fleet.Bastions {
		if b.Name == name {
			return true
		}
	}
	return false
}
