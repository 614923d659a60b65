package lab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sync/errgroup"
)

// UpOptions tune `lab up`.
type UpOptions struct {
	Hosts int // how many hosts the lab has after up
	// Parallel bounds hosts being set up at once (default 32).
	Parallel int
	// ReadyTimeout bounds the wait for every host to answer "running" over SSH.
	ReadyTimeout time.Duration
	// Distros are the releases the hosts run, alternating (h1 the first,
	// h2 the second, ...); empty is bookworm alone.
	Distros []string
	// SSHSocket starts sshd by socket activation (ssh.socket) on every
	// host whose release can (trixie), as Ubuntu 24.04 does.
	SSHSocket bool
}

// Up brings the lab to n running hosts and returns once each answers over SSH
// (strict host key checking against the lab's known_hosts) with
// `systemctl is-system-running` = running. It is safe to run again: hosts
// already up are left alone, hosts beyond n are stopped.
func Up(ctx context.Context, c Config, o UpOptions) (*State, error) {
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	if err := checkHost(); err != nil {
		return nil, err
	}
	if o.Hosts < 1 {
		return nil, fmt.Errorf("--hosts must be at least 1")
	}
	if o.Parallel <= 0 {
		o.Parallel = 32
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 60*time.Second + time.Duration(o.Hosts)*200*time.Millisecond
	}
	gw, hosts, err := plan(c.Subnet, o.Hosts)
	if err != nil {
		return nil, err
	}
	if err := stopSurplus(ctx, c, len(hosts)); err != nil {
		return nil, err
	}
	if err := assignDistros(ctx, c, o, hosts); err != nil {
		return nil, err
	}
	raiseInotifyLimits()
	labPub, err := ensureLabKey(c)
	if err != nil {
		return nil, err
	}
	if err := ensureBridge(c, gw.String()); err != nil {
		return nil, err
	}
	st := &State{Bridge: c.Bridge, Subnet: c.Subnet, Gateway: gw.Addr().String(), Rootfs: hosts[0].Rootfs, Hosts: hosts}
	if err := saveState(c, st); err != nil {
		return nil, err
	}
	start := time.Now()
	keys, err := bootHosts(ctx, c, hosts, gw, labPub, o.Parallel)
	if err != nil {
		return nil, err
	}
	if err := writeKnownHosts(c, keys, hosts); err != nil {
		return nil, err
	}
	if err := writeInventory(c, hosts); err != nil {
		return nil, err
	}
	c.Logf("%d hosts started in %.1fs; waiting for them to answer over SSH", len(hosts), time.Since(start).Seconds())
	if err := waitReady(ctx, c, hosts, o.ReadyTimeout, o.Parallel); err != nil {
		return nil, err
	}
	c.Logf("%d hosts running in %.1fs", len(hosts), time.Since(start).Seconds())
	return st, nil
}

// stopSurplus halts the hosts of the lab already there beyond the first n,
// after checking the lab is this one (same bridge and subnet).
func stopSurplus(ctx context.Context, c Config, n int) error {
	old, err := LoadState(c)
	if err != nil {
		return nil // no lab yet
	}
	if old.Bridge != c.Bridge || old.Subnet != c.Subnet {
		return fmt.Errorf("the lab at %s uses bridge %s and subnet %s: bring it down first or pick another --state-dir", c.StateDir, old.Bridge, old.Subnet)
	}
	if len(old.Hosts) <= n {
		return nil
	}
	// Surplus hosts halt in parallel: one at a time, a buggy demo service's
	// stop timeout each would add up to half an hour.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(64)
	for _, h := range old.Hosts[n:] {
		g.Go(func() error { return stopHost(gctx, c, h, 2*time.Minute) })
	}
	return g.Wait()
}

// assignDistros gives each host its release (alternating o.Distros), the
// root filesystem of that release, built once, its systemd version and the
// unit that starts its sshd. A host already made on another release is
// refused: its overlay belongs to that release's root filesystem.
func assignDistros(ctx context.Context, c Config, o UpOptions, hosts []Host) error {
	names := o.Distros
	if len(names) == 0 {
		names = []string{DefaultSuite}
	}
	old := map[string]string{}
	if st, err := LoadState(c); err == nil {
		for _, h := range st.Hosts {
			old[h.Name] = h.distro()
		}
	}
	roots, versions := map[string]string{}, map[string]string{}
	socket := false
	for i := range hosts {
		h := &hosts[i]
		h.Distro = names[i%len(names)]
		if d, ok := old[h.Name]; ok && d != h.Distro {
			return fmt.Errorf("%s runs %s, not %s: `fleetfix lab destroy` first, or pick another --state-dir", h.Name, d, h.Distro)
		}
		if roots[h.Distro] == "" {
			root, err := ensureRootfs(ctx, c, h.Distro)
			if err != nil {
				return err
			}
			v, err := packageVersion(root, "systemd")
			if err != nil {
				return err
			}
			roots[h.Distro], versions[h.Distro] = root, v
		}
		h.Rootfs, h.Systemd, h.SSHD = roots[h.Distro], versions[h.Distro], "ssh.service"
		if o.SSHSocket && canSocketSSHD(h.Distro) {
			h.SSHD, socket = "ssh.socket", true
		}
	}
	if o.SSHSocket && !socket {
		return fmt.Errorf("--ssh-socket: no host runs a release whose sshd can be socket-activated (trixie can; bookworm's sshd cannot)")
	}
	return nil
}

// bootHosts sets up and starts each host, parallel at a time: its network,
// its overlay on the shared root, its provisioning; it returns each host's
// SSH host key.
func bootHosts(ctx context.Context, c Config, hosts []Host, gw netip.Prefix, labPub []byte, parallel int) (map[string]ssh.PublicKey, error) {
	var mu sync.Mutex
	keys := make(map[string]ssh.PublicKey, len(hosts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, h := range hosts {
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err()
			}
			if err := ensureHostNetwork(c, h, gw.Addr().String(), gw.Bits()); err != nil {
				return err
			}
			if err := mountRoot(c, h.Name, h.Rootfs); err != nil {
				return fmt.Errorf("mount root of %s: %w", h.Name, err)
			}
			k, err := provision(c, h, labPub)
			if err != nil {
				return err
			}
			mu.Lock()
			keys[h.Name] = k
			mu.Unlock()
			return startHost(c, h)
		})
	}
	return keys, g.Wait()
}

// raiseInotifyLimits: at the default of 128 instances, about the 20th
// container fails with "Failed to create control group inotify object".
func raiseInotifyLimits() {
	for path, min := range map[string]int{
		"/proc/sys/fs/inotify/max_user_instances": 8192,
		"/proc/sys/fs/inotify/max_user_watches":   1048576,
	} {
		// Best effort: an unreadable limit counts as 0 and is raised; a
		// limit that cannot be raised shows as the container error above.
		var cur int
		if b, err := os.ReadFile(path); err == nil {
			_, _ = fmt.Sscan(string(b), &cur)
		}
		if cur < min {
			_ = os.WriteFile(path, []byte(fmt.Sprint(min)), 0o644)
		}
	}
}

// waitReady polls each host: first a cheap TCP probe of port 22 (so no login
// lands on a host still booting), then one SSH login that waits for boot to end.
func waitReady(ctx context.Context, c Config, hosts []Host, timeout time.Duration, parallel int) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, h := range hosts {
		g.Go(func() error { return waitHostReady(gctx, c, h) })
	}
	return g.Wait()
}

func waitHostReady(ctx context.Context, c Config, h Host) error {
	addr := net.JoinHostPort(h.Address, "22")
	var last error
	for {
		if ctx.Err() != nil {
			return fmt.Errorf("%s (%s) not ready: %v (console: %s)", h.Name, h.Address, last, c.consoleLog(h.Name))
		}
		if supervisorPID(c, h.Name) == 0 {
			return fmt.Errorf("%s: its container exited; see %s", h.Name, c.consoleLog(h.Name))
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			last = err
			sleepCtx(ctx, 100*time.Millisecond)
			continue
		}
		_ = conn.Close() // a probe: sshd listens
		state, err := systemState(ctx, c, h)
		if err == nil && state == "running" {
			return nil
		}
		if err == nil {
			last = fmt.Errorf("systemctl is-system-running: %s", state)
		} else {
			last = err
		}
		sleepCtx(ctx, 250*time.Millisecond)
	}
}

// SSHArgs are OpenSSH client arguments that reach a lab host as root with
// strict host key checking against the lab's known_hosts. The lab checks its
// hosts with the reference client, independently of fleetfix's own SSH code.
func SSHArgs(c Config, h Host) []string {
	c = c.withDefaults()
	return []string{
		"-i", c.KeyFile(),
		"-o", "UserKnownHostsFile=" + c.KnownHostsFile(),
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes",
		"-o", "ConnectTimeout=5",
		"-o", "LogLevel=ERROR",
		"root@" + h.Address,
	}
}

func systemState(ctx context.Context, c Config, h Host) (string, error) {
	// --wait blocks until boot has finished; a non-zero exit still prints the state.
	script := "s=$(systemctl is-system-running --wait); echo \"$s\"; [ \"$s\" = degraded ] && systemctl --failed --no-legend --plain; true"
	out, err := exec.CommandContext(ctx, "ssh", append(SSHArgs(c, h), script)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ssh: %w: %s", err, strings.TrimSpace(string(out)))
	}
	lines := strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)
	if len(lines) == 2 {
		return lines[0] + " (failed units: " + strings.Join(strings.Fields(lines[1]), " ") + ")", nil
	}
	return lines[0], nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
