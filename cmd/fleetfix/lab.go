package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/fleetfix/fleetfix/internal/duration"
	"github.com/fleetfix/fleetfix/lab"
	"github.com/spf13/cobra"
)

func newLabCmd(in interrupts) *cobra.Command {
	var cfg lab.Config
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run a local rehearsal fleet of systemd-nspawn hosts (root only)",
		Long: `A lab is a fleet of Debian hosts on this machine, booted with systemd-nspawn:
real systemd, persistent journal, sshd, each with its own address on a bridge,
running the demo services smart-proxy and rule-proxy in their buggy builds. "lab up" writes an SSH
key, a known_hosts file and an inventory for them into the state directory.
Two labs can run side by side with distinct --state-dir, --bridge and --subnet.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&cfg.StateDir, "state-dir", lab.DefaultStateDir, "lab state directory (keys, known_hosts, inventory, host overlays)")
	pf.StringVar(&cfg.CacheDir, "cache-dir", lab.DefaultCacheDir, "cache of built root filesystems, shared by labs")
	pf.StringVar(&cfg.Bridge, "bridge", lab.DefaultBridge, "bridge interface name (also prefixes netns and veth names)")
	pf.StringVar(&cfg.Subnet, "subnet", lab.DefaultSubnet, "lab address range; the bridge takes the first address")
	cmd.AddCommand(newLabUpCmd(in, &cfg), newLabDownCmd(in, &cfg), newLabDestroyCmd(in, &cfg), newLabStatusCmd(&cfg))
	return cmd
}

func labLogf(format string, args ...any) { fmt.Fprintf(os.Stderr, "lab: "+format+"\n", args...) }

func newLabUpCmd(in interrupts, cfg *lab.Config) *cobra.Command {
	var up lab.UpOptions
	var distro string
	upCmd := &cobra.Command{
		Use:   "up",
		Short: "Build (once) the root filesystem and boot the lab's hosts",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Logf = labLogf
			var err error
			if up.Distros, err = lab.ParseDistros(distro); err != nil {
				return err
			}
			start := time.Now()
			st, err := lab.Up(cancelOnHalt(cmd.Context(), in.halt), *cfg, up)
			if err != nil {
				return err
			}
			fmt.Printf("lab up: %d hosts running in %s\n", len(st.Hosts), duration.Format(time.Since(start)))
			fmt.Printf("  inventory:   %s\n  key:         %s\n  known_hosts: %s\n", cfg.InventoryFile(), cfg.KeyFile(), cfg.KnownHostsFile())
			fmt.Printf("  ssh:         ssh -i %s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes root@%s\n",
				cfg.KeyFile(), cfg.KnownHostsFile(), st.Hosts[0].Address)
			return nil
		},
	}
	upCmd.Flags().IntVar(&up.Hosts, "hosts", 3, "number of hosts")
	upCmd.Flags().IntVar(&up.Parallel, "parallel", 32, "hosts set up at once")
	upCmd.Flags().DurationVar(&up.ReadyTimeout, "ready-timeout", 0, "how long to wait for every host to be running (default 60s + 200ms a host)")
	upCmd.Flags().StringVar(&distro, "distro", lab.DefaultSuite, "Debian release of the hosts: bookworm (systemd 252) or trixie (systemd 257); several, comma-separated, alternate across hosts")
	upCmd.Flags().BoolVar(&up.SSHSocket, "ssh-socket", false, "start sshd by socket activation (ssh.socket, as Ubuntu 24.04 does) on hosts whose release can (trixie)")
	upCmd.Flags().DurationVar(&cfg.StopTimeout, "stop-timeout", 0, "install the demo service with this TimeoutStopSec (a lab drop-in) on new hosts; 0 keeps systemd's 90s")
	return upCmd
}

func newLabDownCmd(in interrupts, cfg *lab.Config) *cobra.Command {
	var down lab.DownOptions
	downCmd := &cobra.Command{
		Use:   "down",
		Short: "Halt every host and remove processes, mounts, netns, links and cgroups (keeps state)",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Logf = labLogf
			start := time.Now()
			if err := lab.Down(cancelOnHalt(cmd.Context(), in.halt), *cfg, down); err != nil {
				return err
			}
			fmt.Printf("lab down in %s\n", duration.Format(time.Since(start)))
			return nil
		},
	}
	downCmd.Flags().DurationVar(&down.HaltTimeout, "halt-timeout", 2*time.Minute, "time a host may take to halt before it is killed")
	return downCmd
}

func newLabDestroyCmd(in interrupts, cfg *lab.Config) *cobra.Command {
	var down lab.DownOptions
	destroyCmd := &cobra.Command{
		Use:   "destroy",
		Short: "Bring the lab down and delete its state directory (keeps the cached root filesystem)",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Logf = labLogf
			return lab.Destroy(cancelOnHalt(cmd.Context(), in.halt), *cfg, down)
		},
	}
	destroyCmd.Flags().DurationVar(&down.HaltTimeout, "halt-timeout", 2*time.Minute, "time a host may take to halt before it is killed")
	return destroyCmd
}

func newLabStatusCmd(cfg *lab.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show each lab host: address, release, systemd version, sshd unit, container running, sshd answering",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			hosts, err := lab.Status(*cfg)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "HOST\tADDRESS\tDISTRO\tSYSTEMD\tSSHD\tCONTAINER\tSSH")
			for _, h := range hosts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Name, h.Address, orDash(h.Distro), orDash(h.Systemd), orDash(h.SSHD),
					yesNo(h.Running, "running", "stopped"), yesNo(h.SSH, "up", "-"))
			}
			return tw.Flush()
		},
	}
}

func orDash(s string) string { return yesNo(s != "", s, "-") }

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// cancelOnHalt returns ctx, cancelled also when halt is closed: the lab
// has no step boundaries to stop at, so the first Ctrl-C cancels it.
func cancelOnHalt(ctx context.Context, halt <-chan struct{}) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-halt:
		case <-ctx.Done():
		}
		cancel()
	}()
	return ctx
}
