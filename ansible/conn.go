package ansible

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Fleet is an inventory as fleetfix can take it: each host with the
// connection its resolved variables give, and the bastions its proxy
// settings name.
type Fleet struct {
	Hosts    []Target
	Bastions []Target
	// Warnings say, one per line, what was not carried over and why.
	Warnings []string
}

// Target is a host or bastion in fleetfix's terms; a zero field is unset.
type Target struct {
	Name, Address string
	Groups        []string
	User          string
	Port          int
	IdentityFile  string
	Become        bool
	// BecomePassword: Ansible has a sudo password for the host; fleetfix
	// asks for it at run time instead of storing it.
	BecomePassword bool
	ProxyJump      string // the name of a bastion in Fleet.Bastions
}

var (
	// fleetNameRE is fleetfix's rule for host, bastion and group names.
	fleetNameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	notFleetName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
)

// Fleet maps every host's resolved variables to fleetfix connection
// settings. A setting fleetfix cannot honour safely (a become_user other
// than root, a become_method other than sudo) is an error, all of them at
// once; anything else not carried over is a warning.
func (inv *Inventory) Fleet() (*Fleet, error) {
	m := &mapper{inv: inv, fleet: &Fleet{Warnings: slices.Clone(inv.Warnings)}, unused: map[string][]string{}}
	for _, h := range inv.Hosts {
		m.host(h.Name, inv.Vars(h.Name))
	}
	m.groups()
	for _, k := range sortedKeys(m.unused) {
		m.fleet.Warnings = append(m.fleet.Warnings, fmt.Sprintf("variable %s (%s) not carried over: %s", k, someOf(m.unused[k]), unusedWhy(k)))
	}
	if len(m.errs) > 0 {
		return m.fleet, errors.Join(m.errs...)
	}
	return m.fleet, nil
}

type mapper struct {
	inv    *Inventory
	fleet  *Fleet
	errs   []error
	unused map[string][]string // variable -> hosts that have it
}

func (m *mapper) warn(format string, args ...any) {
	m.fleet.Warnings = append(m.fleet.Warnings, fmt.Sprintf(format, args...))
}

// connVars are the variables Conn reads, legacy spellings included.
var connVars = []string{
	"ansible_host", "ansible_ssh_host", "ansible_port", "ansible_ssh_port", "ansible_user", "ansible_ssh_user",
	"ansible_ssh_private_key_file", "ansible_private_key_file", "ansible_become", "ansible_become_user",
	"ansible_become_method", "ansible_become_password", "ansible_become_pass", "ansible_sudo_pass",
	"ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_connection",
}

// host maps one host's variables to a fleetfix target.
func (m *mapper) host(name string, vars map[string]any) {
	t := Target{Name: name, Address: name}
	for k := range vars {
		if !slices.Contains(connVars, k) && k != "ansible_group_priority" {
			m.unused[k] = append(m.unused[k], name)
		}
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := vars[k]; ok && v != nil {
				s := fmt.Sprint(v)
				if strings.Contains(s, "{{") {
					m.warn("%s: %s is a Jinja2 template (%q): not carried over, fleetfix does not template", name, k, s)
					return ""
				}
				return s
			}
		}
		return ""
	}
	if a := str("ansible_host", "ansible_ssh_host"); a != "" {
		t.Address = a
	}
	if p := str("ansible_port", "ansible_ssh_port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			m.errs = append(m.errs, fmt.Errorf("%s: ansible_port %q is not a port number", name, p))
		}
		t.Port = n
	}
	t.User = str("ansible_user", "ansible_ssh_user")
	t.IdentityFile = str("ansible_ssh_private_key_file", "ansible_private_key_file")
	if t.IdentityFile != "" && !strings.HasPrefix(t.IdentityFile, "/") && !strings.HasPrefix(t.IdentityFile, "~") {
		m.warn("%s: ansible_ssh_private_key_file %q is relative: Ansible reads it from where it runs, fleetfix from the written inventory's directory", name, t.IdentityFile)
	}
	if b := str("ansible_become"); b != "" {
		t.Become = truthy(b)
	}
	if u := str("ansible_become_user"); u != "" && u != "root" {
		m.errs = append(m.errs, fmt.Errorf("%s: ansible_become_user %q: fleetfix runs its commands as root only", name, u))
	}
	if bm := str("ansible_become_method"); bm != "" && bm != "sudo" {
		m.errs = append(m.errs, fmt.Errorf("%s: ansible_become_method %q: fleetfix becomes root with sudo only", name, bm))
	}
	if str("ansible_become_password", "ansible_become_pass", "ansible_sudo_pass") != "" {
		t.BecomePassword = true
		m.warn("%s: the sudo password is not carried over: become_password: true asks for it once per run", name)
	}
	if c := str("ansible_connection"); c != "" && c != "ssh" && c != "smart" && c != "paramiko" {
		m.warn("%s: ansible_connection %q not carried over: fleetfix connects over SSH", name, c)
	}
	t.ProxyJump = m.proxy(name, str("ansible_ssh_common_args"), str("ansible_ssh_extra_args"))
	t.Name = m.fleetName(name, "host")
	m.fleet.Hosts = append(m.fleet.Hosts, t)
}

func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1", "y", "t":
		return true
	}
	return false
}

// fleetName returns name as fleetfix accepts it, warning when it changed.
func (m *mapper) fleetName(name, kind string) string {
	if fleetNameRE.MatchString(name) {
		return name
	}
	fixed := strings.Trim(notFleetName.ReplaceAllString(name, "-"), "-._")
	if fixed == "" {
		fixed = kind
	}
	m.warn("%s %q renamed %q: fleetfix names use letters, digits, '.', '_' and '-'", kind, name, fixed)
	return fixed
}

// groups gives each host its groups (Ansible's parents included, which
// fleetfix's flat groups need), leaving out all and ungrouped, which every
// fleetfix inventory has implicitly, and names taken by a host.
func (m *mapper) groups() {
	taken := map[string]bool{}
	for _, t := range append(slices.Clone(m.fleet.Hosts), m.fleet.Bastions...) {
		taken[t.Name] = true
	}
	dropped := map[string]bool{}
	for i, h := range m.inv.Hosts {
		for _, g := range m.inv.HostGroups(h.Name) {
			switch {
			case g == "ungrouped":
			case taken[g] || !fleetNameRE.MatchString(g):
				if !dropped[g] {
					dropped[g] = true
					m.warn("group %q not carried over: its name is a host's, or not a valid fleetfix name", g)
				}
			default:
				m.fleet.Hosts[i].Groups = append(m.fleet.Hosts[i].Groups, g)
			}
		}
	}
	for _, g := range m.inv.order {
		if g != "all" && g != "ungrouped" && len(m.inv.Members(g)) == 0 {
			m.warn("group %q has no hosts: not carried over", g)
		}
	}
}

func someOf(hosts []string) string {
	if len(hosts) > 3 {
		return fmt.Sprintf("%s and %d more hosts", strings.Join(hosts[:3], ", "), len(hosts)-3)
	}
	return strings.Join(hosts, ", ")
}

func unusedWhy(k string) string {
	switch k {
	case "ansible_password", "ansible_ssh_pass":
		return "fleetfix authenticates with keys (identity_files, ssh-agent) only"
	case "ansible_python_interpreter":
		return "fleetfix runs no Python on the hosts"
	}
	if strings.HasPrefix(k, "ansible_") {
		return "fleetfix has no such connection setting"
	}
	return "fleetfix inventories have no variables"
}
