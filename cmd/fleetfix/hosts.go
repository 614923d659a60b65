package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/sshcfg"
	"github.com/spf13/cobra"
)

// sshFlags choose the ssh_config the commands that connect read.
type sshFlags struct {
	none bool   // --no-ssh-config
	file string // -F FILE
}

func (s *sshFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&s.none, "no-ssh-config", false, "ignore ~/.ssh/config and /etc/ssh/ssh_config")
	fl.StringVarP(&s.file, "ssh-config", "F", "", "read this ssh_config file instead of ~/.ssh/config and /etc/ssh/ssh_config (as ssh -F)")
}

// load reads the ssh_config the flags choose; nil for none. A config that
// does not load fails each connection with its reason (sshcfg.Failed).
func (s *sshFlags) load() *sshcfg.Config {
	if s.none {
		return nil
	}
	paths, err := sshcfg.DefaultPaths(s.file)
	if err != nil {
		return sshcfg.Failed(err)
	}
	sc, err := sshcfg.Load(paths)
	if err != nil {
		return sshcfg.Failed(fmt.Errorf("%w (or run with --no-ssh-config)", err))
	}
	return sc
}

// apply adds the ssh_config and, when verbose, the ProxyCommand log to o.
func (s *sshFlags) apply(o fleet.ConnectOptions, verbose bool) fleet.ConnectOptions {
	o.SSHConfig = s.load()
	if verbose {
		o.ProxyStderr = os.Stderr
	}
	return o
}

func newHostsCmd() *cobra.Command {
	var ssh sshFlags
	var ia inventoryArg
	var limit []string
	cmd := &cobra.Command{
		Use:   "hosts [INVENTORY | -i INVENTORY] [--limit ...] [-F FILE | --no-ssh-config]",
		Short: "Show how each host is reached, and where each setting comes from",
		Long: `hosts prints, for each host, the connection fleetfix makes: address, port,
user, the keys offered, the jump chain or proxy command, the known_hosts files,
and for each value where it came from: the inventory (host or defaults), an
ssh_config file and line, or fleetfix's default. It connects to nothing.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _, err := ia.split(args, false)
			if err != nil {
				return err
			}
			inv, err := inventory.Load(path)
			if err != nil {
				return usageError{err}
			}
			targets, err := inv.Select(limit)
			if err != nil {
				return usageError{fmt.Errorf("--limit: %w", err)}
			}
			sc := ssh.load()
			for _, m := range sc.Skipped() {
				fmt.Fprintf(cmd.ErrOrStderr(), "ssh_config %s: skipped, fleetfix cannot evaluate this Match\n", m)
			}
			failed := false
			for _, t := range targets {
				rc, err := inv.Explain(t, sc)
				if err != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %v\n\n", t.Name, err)
					failed = true
					continue
				}
				printConn(cmd.OutOrStdout(), rc)
			}
			if failed {
				return exitCode(exitFailedHosts)
			}
			return nil
		},
	}
	ssh.register(cmd)
	cmd.Flags().StringSliceVarP(&limit, "limit", "l", nil, "only these hosts or groups (comma-separated, repeatable)")
	ia.register(cmd, false)
	return cmd
}

// printConn prints one host's resolved connection as a table: setting,
// value, origin.
func printConn(w io.Writer, rc inventory.ResolvedConn) {
	fmt.Fprintln(w, rc.Name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, value, origin string) {
		if origin == "" {
			origin = inventory.FromBuiltin
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", name, value, origin)
	}
	o := rc.Origin
	addr := rc.Address
	if rc.Alias != "" {
		addr += " (alias " + rc.Alias + ")"
	}
	row("address", addr, o["address"])
	row("port", fmt.Sprint(rc.Port), o["port"])
	row("user", rc.User, o["user"])
	row("keys", keysOffered(rc), o["identity_files"])
	if len(rc.CertificateFiles) > 0 {
		row("certificates", strings.Join(rc.CertificateFiles, ", "), o["certificate_files"])
	}
	row("agent", agentOf(rc), o["agent"])
	switch {
	case len(rc.ProxyCommand) > 0:
		row("proxy command", strings.Join(rc.ProxyCommand, " "), o["proxy"])
	case rc.Jump != nil:
		row("jump", jumpChain(rc), o["proxy"])
	default:
		row("jump", "none (direct)", o["proxy"])
	}
	row("known_hosts", strings.Join(rc.KnownHosts, ", "), o["known_hosts"])
	checking := "strict (unknown keys refused without --trust-on-first-use)"
	if rc.StrictHostKeys {
		checking = "strict, also with --trust-on-first-use"
	}
	if rc.HashKnownHosts {
		checking += "; new keys recorded hashed"
	}
	row("host keys", checking, o["strict_host_key_checking"])
	row("connect_timeout", rc.ConnectTimeout.String(), o["connect_timeout"])
	row("max_startups", fmt.Sprint(rc.MaxStartups), o["max_startups"])
	row("connect_retries", fmt.Sprint(rc.ConnectRetries), o["connect_retries"])
	keepAlive := "15s"
	if rc.KeepAlive > 0 {
		keepAlive = rc.KeepAlive.String()
	}
	row("keepalive", keepAlive, o["keepalive"])
	_ = tw.Flush()
	fmt.Fprintln(w)
}

// keysOffered lists the identity files, each with the certificate found
// beside it.
func keysOffered(rc inventory.ResolvedConn) string {
	if len(rc.IdentityFiles) == 0 {
		return "none (agent only)"
	}
	var keys []string
	for _, f := range rc.IdentityFiles {
		if _, err := os.Stat(f + "-cert.pub"); err == nil {
			f += " (+ -cert.pub)"
		}
		keys = append(keys, f)
	}
	return strings.Join(keys, ", ")
}

func agentOf(rc inventory.ResolvedConn) string {
	switch {
	case !rc.Agent:
		return "off"
	case rc.AgentSocket != "":
		return rc.AgentSocket
	case rc.IdentitiesOnly:
		return "$SSH_AUTH_SOCK, only keys of the identity files (IdentitiesOnly)"
	}
	return "$SSH_AUTH_SOCK"
}

// jumpChain is the hops from the first one dialed to the host.
func jumpChain(rc inventory.ResolvedConn) string {
	var hops []string
	for j := rc.Jump; j != nil; j = j.Jump {
		hops = append([]string{fmt.Sprintf("%s (%s@%s:%d)", j.Name, j.User, j.Address, j.Port)}, hops...)
	}
	return strings.Join(append(hops, rc.Name), " -> ")
}
