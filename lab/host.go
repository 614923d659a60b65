package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	smartproxy "github.com/fleetfix/fleetfix/examples/smart-proxy"
	"golang.org/x/crypto/ssh"
)

// Paths inside a host's directory.
func (c Config) upperDir(h string) string   { return filepath.Join(c.hostDir(h), "upper") }
func (c Config) workDir(h string) string    { return filepath.Join(c.hostDir(h), "work") }
func (c Config) rootDir(h string) string    { return filepath.Join(c.hostDir(h), "root") }
func (c Config) pidFile(h string) string    { return filepath.Join(c.hostDir(h), "supervisor.pid") }
func (c Config) scriptFile(h string) string { return filepath.Join(c.hostDir(h), "supervise.sh") }
func (c Config) consoleLog(h string) string { return filepath.Join(c.hostDir(h), "console.log") }

// mounted reports whether path is a mount point, from /proc/self/mountinfo.
func mounted(path string) (bool, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	defer func() { _ = f.Close() }() // read only: a close error loses nothing
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeMount(fields[4]) == path {
			return true, nil
		}
	}
	return false, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountRoot puts the host's overlay over the shared root filesystem.
func mountRoot(c Config, h, rootfs string) error {
	for _, d := range []string{c.upperDir(h), c.workDir(h), c.rootDir(h)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if m, err := mounted(c.rootDir(h)); err != nil || m {
		return err
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", rootfs, c.upperDir(h), c.workDir(h))
	return run("mount", "-t", "overlay", "overlay", "-o", opts, c.rootDir(h))
}

// provision writes what makes a host itself: its machine id (a stable one is
// what lets `journalctl -b -1` find the previous boot), hostname, host key,
// the lab's authorized key, and the demo services in their buggy builds: on
// first boot, and again when the demo's files changed since (a marker keeps
// their hash), so a lab made before a demo change gets the new demo instead
// of an inventory for units it lacks. It returns the host's public host key.
func provision(c Config, h Host, labPub []byte) (ssh.PublicKey, error) {
	root := c.rootDir(h.Name)
	idPath := filepath.Join(root, "etc/machine-id")
	if id, _ := os.ReadFile(idPath); len(bytes.TrimSpace(id)) == 0 {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		if err := os.WriteFile(idPath, []byte(hex.EncodeToString(b)+"\n"), 0o444); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/hostname"), []byte(h.Name+"\n"), 0o644); err != nil {
		return nil, err
	}
	// The host must resolve its own name from files: sudo looks it up, and
	// with no DNS in the lab each lookup would wait out the resolver's timeout.
	hosts := fmt.Sprintf("127.0.0.1\tlocalhost\n127.0.1.1\t%s\n%s\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n", h.Name, h.Address, h.Name)
	if err := os.WriteFile(filepath.Join(root, "etc/hosts"), []byte(hosts), 0o644); err != nil {
		return nil, err
	}
	pub, err := ensureHostKey(filepath.Join(root, "etc/ssh/ssh_host_ed25519_key"))
	if err != nil {
		return nil, fmt.Errorf("host key of %s: %w", h.Name, err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/ssh/fleetlab_authorized_keys"), labPub, 0o644); err != nil {
		return nil, err
	}
	if err := setSSHD(root, h.SSHD == "ssh.socket"); err != nil {
		return nil, fmt.Errorf("sshd unit of %s: %w", h.Name, err)
	}
	files := demoFiles(c.StopTimeout)
	marker := filepath.Join(root, "etc/fleetlab-provisioned")
	want := "fleetfix lab demo " + demoHash(files) + "\n"
	if got, err := os.ReadFile(marker); err == nil && string(got) == want {
		return pub, nil
	}
	if err := installDemo(root, files); err != nil {
		return nil, fmt.Errorf("install demo service on %s: %w", h.Name, err)
	}
	return pub, os.WriteFile(marker, []byte(want), 0o644)
}

// demoFile is a file of the demo, at its path under a host's root.
type demoFile struct {
	path string
	data []byte
	mode os.FileMode
}

// demoUnits are the demo's units, enabled on every host.
func demoUnits() []string {
	return []string{"smart-proxy.service", "smart-upstream.service", "rule-proxy.service"}
}

// demoFiles are the demo's files: both hanging services in their buggy
// builds, their upstream, their units and, with a stopTimeout, the lab
// drop-in that shortens their hang.
func demoFiles(stopTimeout time.Duration) []demoFile {
	files := []demoFile{
		{"usr/local/bin/smart-proxy", smartproxy.Buggy, 0o755},
		{"usr/local/bin/smart-upstream", smartproxy.Upstream, 0o755},
		{"usr/local/bin/rule-proxy", smartproxy.RuleBuggy, 0o755},
		{"etc/systemd/system/smart-proxy.service", smartproxy.ProxyUnit, 0o644},
		{"etc/systemd/system/smart-upstream.service", smartproxy.UpstreamUnit, 0o644},
		{"etc/systemd/system/rule-proxy.service", smartproxy.RuleUnit, 0o644},
	}
	if stopTimeout > 0 {
		conf := fmt.Sprintf("# fleetfix lab: a short stop timeout so the hang takes seconds, not 90\n[Service]\nTimeoutStopSec=%dms\n", stopTimeout.Milliseconds())
		for _, u := range []string{"smart-proxy.service", "rule-proxy.service"} {
			files = append(files, demoFile{"etc/systemd/system/" + u + ".d/10-lab.conf", []byte(conf), 0o644})
		}
	}
	return files
}

// demoHash names the demo's content: its files' paths, modes and bytes.
func demoHash(files []demoFile) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s %o %d\n", f.path, f.mode, len(f.data))
		h.Write(f.data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// installDemo installs the demo's files and enables its units, as a package
// would.
func installDemo(root string, files []demoFile) error {
	for _, f := range files {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return err
		}
	}
	wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		return err
	}
	for _, u := range demoUnits() {
		link := filepath.Join(wants, u)
		// An earlier enable's link, if any: Symlink reports what matters.
		_ = os.Remove(link)
		if err := os.Symlink("/etc/systemd/system/"+u, link); err != nil {
			return err
		}
	}
	return nil
}

// ensureHostKey creates an ed25519 host key (in Go: ssh-keygen -A would also
// make slow RSA keys) and returns its public half.
func ensureHostKey(path string) (ssh.PublicKey, error) {
	if b, err := os.ReadFile(path); err == nil {
		k, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, err
		}
		return k.PublicKey(), nil
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
		return nil, err
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return sp, os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(sp), 0o644)
}

// cgroupDirs are the cgroup directories a host's supervisor runs in. Each host
// needs its own: with --keep-unit nspawn builds its cgroups below the caller's,
// and hosts sharing one would stop or kill each other's processes.
func cgroupDirs(c Config, h string) []string {
	name := filepath.Join("fleetlab", c.Bridge+"-"+h)
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return []string{filepath.Join("/sys/fs/cgroup", name)} // pure cgroup2
	}
	var dirs []string
	for _, root := range []string{"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"} {
		if _, err := os.Stat(root); err == nil {
			dirs = append(dirs, filepath.Join(root, name))
		}
	}
	return dirs
}

// supervisorScript boots the host and boots it again whenever it reboots:
// nspawn exits 133 on `systemctl reboot` inside. SIGTERM is passed on to nspawn,
// which halts the container cleanly.
const supervisorScript = `#!/bin/sh
# fleetfix lab supervisor for one host (generated; do not edit)
set -u
for d in %[1]s; do echo $$ > "$d/cgroup.procs"; done
stop=0
child=
trap 'stop=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
while :; do
  echo "fleetlab: booting %[2]s at $(date -u +%%FT%%T.%%NZ)"
  SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --quiet --boot \
    --directory=%[3]s --machine=%[4]s \
    --network-namespace-path=/run/netns/%[5]s \
    --register=no --keep-unit --link-journal=no --console=read-only &
  child=$!
  wait "$child"; rc=$?
  while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
  child=
  echo "fleetlab: nspawn exited with $rc"
  [ "$stop" = 1 ] && exit 0
  [ "$rc" = 133 ] || exit "$rc"
done
`

// supervisorPID returns the pid of the host's running supervisor, or 0. The
// pid file alone could name a reused pid, so the process's command line must
// name this host's script.
func supervisorPID(c Config, h string) int {
	b, err := os.ReadFile(c.pidFile(h))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(c.scriptFile(h))) {
		return 0
	}
	return pid
}

// startHost starts the host's supervisor in its own session and cgroup and
// leaves it running after this process exits.
func startHost(c Config, h Host) error {
	if supervisorPID(c, h.Name) != 0 {
		return nil
	}
	dirs := cgroupDirs(c, h.Name)
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("cgroup of %s: %w", h.Name, err)
		}
	}
	script := fmt.Sprintf(supervisorScript, strings.Join(dirs, " "), h.Name,
		c.rootDir(h.Name), c.Bridge+"-"+h.Name, c.netnsName(h.Name))
	if err := os.WriteFile(c.scriptFile(h.Name), []byte(script), 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(c.consoleLog(h.Name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	// The supervisor holds its own copy of the log's descriptor.
	defer func() { _ = logf.Close() }()
	cmd := exec.Command("/bin/sh", c.scriptFile(h.Name))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", h.Name, err)
	}
	pid := cmd.Process.Pid
	if err := cmd.Process.Release(); err != nil {
		return err
	}
	return os.WriteFile(c.pidFile(h.Name), []byte(strconv.Itoa(pid)+"\n"), 0o644)
}

// stopHost halts the host gracefully (SIGTERM to its supervisor, which nspawn
// turns into a clean poweroff) and, past the timeout, kills whatever is left in
// its cgroups. It then removes the mount, cgroups and network it had.
func stopHost(ctx context.Context, c Config, h Host, timeout time.Duration) error {
	var errs []error
	if pid := supervisorPID(c, h.Name); pid != 0 {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		deadline := time.Now().Add(timeout)
		for supervisorPID(c, h.Name) != 0 && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
		}
		if supervisorPID(c, h.Name) != 0 {
			c.Logf("%s: did not halt within %s; killing it", h.Name, timeout)
		}
	}
	// Whatever is left (a hung halt, or a supervisor killed by hand) dies here.
	for i := 0; i < 50; i++ {
		if killCgroups(cgroupDirs(c, h.Name)) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A missing pid file is the state wanted; supervisorPID checks the pid anyway.
	_ = os.Remove(c.pidFile(h.Name))
	if err := unmount(c.rootDir(h.Name)); err != nil {
		errs = append(errs, err)
	}
	for _, d := range cgroupDirs(c, h.Name) {
		if err := removeCgroup(d); err != nil {
			errs = append(errs, err)
		}
	}
	if err := removeHostNetwork(c, h); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("clean up %s: %w", h.Name, errors.Join(errs...))
	}
	return nil
}

func unmount(path string) error {
	for i := 0; i < 20; i++ {
		m, err := mounted(path)
		if err != nil || !m {
			return err
		}
		if err := syscall.Unmount(path, 0); err == nil || errors.Is(err, syscall.EINVAL) {
			continue
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("unmount %s: still busy", path)
}

// killCgroups SIGKILLs every process in the cgroup trees and returns how many
// it found.
func killCgroups(dirs []string) int {
	n := 0
	for _, root := range dirs {
		// The walk's callback never fails: an unreadable cgroup is one gone.
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
			if err != nil {
				return nil
			}
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
					// A process that exited meanwhile is one fewer; the
					// caller counts again until none is found.
					_ = syscall.Kill(pid, syscall.SIGKILL)
					n++
				}
			}
			return nil
		})
	}
	return n
}

// removeCgroup removes a cgroup directory tree, children first (cgroupfs only
// lets empty leaf directories go).
func removeCgroup(root string) error {
	var dirs []string
	// The callback never fails; what it cannot read, the removal reports.
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	var last error
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := syscall.Rmdir(dirs[i]); err != nil && !errors.Is(err, syscall.ENOENT) {
			last = fmt.Errorf("remove cgroup %s: %w", dirs[i], err)
		}
	}
	return last
}
