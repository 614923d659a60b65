// Package lab runs a rehearsal fleet on this machine: Debian hosts booted with
// systemd-nspawn (real systemd as PID 1, persistent journal, sshd), each in its
// own network namespace on a bridge, sharing one cached read-only root
// filesystem through per-host overlays.
package lab

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Defaults for a lab; two labs side by side need distinct values of all three
// of StateDir, Bridge and Subnet.
const (
	DefaultStateDir = "/var/lib/fleetfix/lab"
	DefaultCacheDir = "/var/cache/fleetfix"
	DefaultBridge   = "fflab0"
	DefaultSubnet   = "10.77.0.0/16"
	DefaultSuite    = "bookworm"
)

// Config says where a lab lives. The zero value of each field means its default.
type Config struct {
	StateDir string // per-lab state: keys, known_hosts, inventory, host overlays
	CacheDir string // shared cache of built root filesystems
	Bridge   string // bridge interface name; also prefixes netns and veth names
	Subnet   string // CIDR; the bridge takes the first address, host i the (i+1)th
	// StopTimeout, when set, is written into the demo service as TimeoutStopSec
	// (a lab drop-in) so rehearsals of the 90 s hang take seconds.
	StopTimeout time.Duration
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
}

func (c Config) withDefaults() Config {
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.CacheDir == "" {
		c.CacheDir = DefaultCacheDir
	}
	if c.Bridge == "" {
		c.Bridge = DefaultBridge
	}
	if c.Subnet == "" {
		c.Subnet = DefaultSubnet
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return c
}

// maxHostDigits bounds host numbers so interface names ("<bridge>-h<N>") fit
// the kernel's 15-character limit.
const maxHostDigits = 5

func (c Config) validate() error {
	if n := len(c.Bridge); n == 0 || n+2+maxHostDigits > 15 {
		return fmt.Errorf("bridge name %q: must be 1 to %d characters", c.Bridge, 15-2-maxHostDigits)
	}
	for _, r := range c.Bridge {
		if !bridgeRune(r) {
			return fmt.Errorf("bridge name %q: only a-z, 0-9 and _ are allowed", c.Bridge)
		}
	}
	p, err := netip.ParsePrefix(c.Subnet)
	if err != nil || !p.Addr().Is4() {
		return fmt.Errorf("subnet %q: want an IPv4 CIDR such as %s", c.Subnet, DefaultSubnet)
	}
	if !filepath.IsAbs(c.StateDir) || !filepath.IsAbs(c.CacheDir) {
		return fmt.Errorf("state and cache directories must be absolute paths")
	}
	return nil
}

// Host is one lab host as recorded in the lab's state.
type Host struct {
	Name    string `json:"name"`    // h1, h2, ...: also its hostname
	Address string `json:"address"` // its IPv4 address on the bridge
	// Distro is the Debian release it runs ("" in a lab made before
	// there was a choice: bookworm); Rootfs the root filesystem under its
	// overlay; Systemd that filesystem's systemd package version.
	Distro  string `json:"distro,omitempty"`
	Rootfs  string `json:"rootfs,omitempty"`
	Systemd string `json:"systemd,omitempty"`
	// SSHD is the unit that starts its sshd at boot: ssh.service, or
	// ssh.socket (socket activation).
	SSHD string `json:"sshd,omitempty"`
}

// distro is the host's release, bookworm for a lab that did not record it.
func (h Host) distro() string {
	if h.Distro == "" {
		return DefaultSuite
	}
	return h.Distro
}

// State is what `lab up` records in StateDir/lab.json; down and status read it.
type State struct {
	Bridge  string `json:"bridge"`
	Subnet  string `json:"subnet"`
	Gateway string `json:"gateway"`
	Rootfs  string `json:"rootfs"` // the first host's; each host has its own
	Hosts   []Host `json:"hosts"`
}

// KeyFile is the lab's private key, which every host's root accepts.
func (c Config) KeyFile() string { return filepath.Join(c.withDefaults().StateDir, "id_ed25519") }

// KnownHostsFile holds the lab hosts' keys, for strict host key checking.
func (c Config) KnownHostsFile() string {
	return filepath.Join(c.withDefaults().StateDir, "known_hosts")
}

// InventoryFile is the inventory of the lab's fleet.
func (c Config) InventoryFile() string {
	return filepath.Join(c.withDefaults().StateDir, "inventory.yaml")
}
func (c Config) statePath() string { return filepath.Join(c.StateDir, "lab.json") }
func (c Config) hostDir(name string) string {
	return filepath.Join(c.StateDir, "hosts", name)
}

// netnsName and vethName are per lab (prefixed by the bridge) so two labs never
// share kernel objects.
func (c Config) netnsName(h string) string { return c.Bridge + "-" + h }
func (c Config) vethName(h string) string  { return c.Bridge + "-" + h }

// LoadState reads the lab's recorded state; a lab never brought up is an error
// that says so.
func LoadState(c Config) (*State, error) {
	c = c.withDefaults()
	b, err := os.ReadFile(c.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no lab at %s (run `fleetfix lab up` first)", c.StateDir)
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", c.statePath(), err)
	}
	return &s, nil
}

func saveState(c Config, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(c.statePath(), append(b, '\n'), 0o644)
}

// plan computes gateway and host addresses for n hosts.
func plan(subnet string, n int) (gw netip.Prefix, hosts []Host, err error) {
	p, err := netip.ParsePrefix(subnet)
	if err != nil {
		return gw, nil, err
	}
	p = p.Masked()
	g := p.Addr().Next()
	gw = netip.PrefixFrom(g, p.Bits())
	a := g
	for i := 1; i <= n; i++ {
		a = a.Next()
		if !p.Contains(a) || a == lastAddr(p) {
			return gw, nil, fmt.Errorf("subnet %s has room for %d hosts, not %d", subnet, i-1, n)
		}
		hosts = append(hosts, Host{Name: "h" + strconv.Itoa(i), Address: a.String()})
	}
	return gw, hosts, nil
}

// bridgeRune reports whether r may appear in a bridge name.
func bridgeRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_'
}

// lastAddr is the broadcast address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	v := binary.BigEndian.Uint32(b[:])
	v |= (1 << (32 - p.Bits())) - 1
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// requirement names the Debian package that provides a command the lab runs.
type requirement struct{ cmd, pkg string }

var requirements = []requirement{
	{"systemd-nspawn", "systemd-container"},
	{"mmdebstrap", "mmdebstrap"},
	{"ip", "iproute2"},
	{"mount", "mount"},
}

// checkHost refuses early, with the fix, when the lab cannot run here.
func checkHost() error {
	if os.Geteuid() != 0 {
		return errors.New("fleetfix lab must run as root (it creates network namespaces, mounts and containers)")
	}
	var missing []string
	for _, r := range requirements {
		if _, err := exec.LookPath(r.cmd); err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", r.cmd, r.pkg))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("fleetfix lab needs %v: apt-get install systemd-container mmdebstrap iproute2", missing)
	}
	return nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	// Gone after the rename; after a failed write, a leftover temp file is
	// harmless (hidden, and replaced by the next write).
	defer func() { _ = os.Remove(tmp.Name()) }()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// run runs a local command, returning its combined output in the error.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v: %w: %s", name, args, err, bytesTrim(out))
	}
	return nil
}

func bytesTrim(b []byte) string {
	const max = 2000
	s := string(b)
	if len(s) > max {
		s = "..." + s[len(s)-max:]
	}
	return s
}
