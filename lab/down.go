package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"
)

// DownOptions tune `lab down`.
type DownOptions struct {
	// HaltTimeout is how long a host may take to halt before what is left of it
	// is killed. A buggy demo service holds a halt for its TimeoutStopSec (90 s
	// by default), so the default leaves room for that.
	HaltTimeout time.Duration
	Parallel    int
}

// Down halts every host gracefully and removes what Up made: processes,
// mounts, network namespaces, links and cgroups. Per-host state (overlays with
// their journals, keys) and the cached root filesystem stay.
func Down(ctx context.Context, c Config, o DownOptions) error {
	c = c.withDefaults()
	if err := checkHost(); err != nil {
		return err
	}
	if o.HaltTimeout <= 0 {
		o.HaltTimeout = 2 * time.Minute
	}
	if o.Parallel <= 0 {
		o.Parallel = 64
	}
	st, err := LoadState(c)
	if err != nil {
		return err
	}
	if st.Bridge != "" {
		c.Bridge = st.Bridge
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Parallel)
	for _, h := range st.Hosts {
		g.Go(func() error { return stopHost(gctx, c, h, o.HaltTimeout) })
	}
	err = g.Wait()
	// The per-lab cgroup parent goes once its hosts have.
	for _, d := range cgroupDirs(c, "x") {
		// Best effort: an empty leftover cgroup holds nothing.
		_ = os.Remove(filepath.Dir(d))
	}
	return errors.Join(err, removeBridge(c))
}

// Destroy brings the lab down and deletes its state directory.
func Destroy(ctx context.Context, c Config, o DownOptions) error {
	c = c.withDefaults()
	if _, err := LoadState(c); err == nil {
		if err := Down(ctx, c, o); err != nil {
			return err
		}
	}
	if _, err := os.Stat(c.StateDir); err != nil {
		return nil
	}
	return os.RemoveAll(c.StateDir)
}

// HostStatus is one host's line in `lab status`.
type HostStatus struct {
	Host
	Running bool // its supervisor (and so its container) is alive
	SSH     bool // its sshd accepts TCP connections
}

// Status reports each recorded host.
func Status(c Config) ([]HostStatus, error) {
	c = c.withDefaults()
	st, err := LoadState(c)
	if err != nil {
		return nil, err
	}
	out := make([]HostStatus, 0, len(st.Hosts))
	for _, h := range st.Hosts {
		s := HostStatus{Host: h, Running: supervisorPID(c, h.Name) != 0}
		if s.Running {
			if conn, err := net.DialTimeout("tcp", net.JoinHostPort(h.Address, "22"), 300*time.Millisecond); err == nil {
				_ = conn.Close() // a probe: the answer is in
				s.SSH = true
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// Leftovers lists what of the lab still exists in the kernel: supervisor
// processes, mounts, network namespaces, links and cgroups. After Down it is
// empty; tests and `lab status` use it.
func Leftovers(c Config) ([]string, error) {
	c = c.withDefaults()
	st, err := LoadState(c)
	if err != nil {
		return nil, err
	}
	var left []string
	if linkExists(c.Bridge) {
		left = append(left, "link "+c.Bridge)
	}
	for _, h := range st.Hosts {
		if pid := supervisorPID(c, h.Name); pid != 0 {
			left = append(left, fmt.Sprintf("process %d (%s)", pid, h.Name))
		}
		if m, _ := mounted(c.rootDir(h.Name)); m {
			left = append(left, "mount "+c.rootDir(h.Name))
		}
		if netnsExists(c.netnsName(h.Name)) {
			left = append(left, "netns "+c.netnsName(h.Name))
		}
		if linkExists(c.vethName(h.Name)) {
			left = append(left, "link "+c.vethName(h.Name))
		}
		for _, d := range cgroupDirs(c, h.Name) {
			if _, err := os.Stat(d); err == nil {
				left = append(left, "cgroup "+d)
			}
		}
	}
	return left, nil
}

// StopHost halts one host of a running lab, as a machine that loses power
// after a grace period, and removes its processes, mount, cgroups and
// network; Up starts it again with its disk (overlay, journal) as it was.
// Tests use it for a host that never comes back from a reboot.
func StopHost(ctx context.Context, c Config, name string, haltTimeout time.Duration) error {
	c = c.withDefaults()
	st, err := LoadState(c)
	if err != nil {
		return err
	}
	for _, h := range st.Hosts {
		if h.Name == name {
			return stopHost(ctx, c, h, haltTimeout)
		}
	}
	return fmt.Errorf("no host %s in the lab at %s", name, c.StateDir)
}
