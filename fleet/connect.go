package fleet

import (
	"context"
	"fmt"
	"io"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/remote"
	"github.com/fleetfix/fleetfix/sshcfg"
)

// ConnectOptions are the controller-side choices for reaching hosts.
type ConnectOptions struct {
	// TrustOnFirstUse accepts and records unknown host keys (never changed
	// ones). Off unless the operator asks.
	TrustOnFirstUse bool
	// BecomePassword returns the sudo password, for hosts with
	// become_password: true; the caller prompts once and caches it.
	BecomePassword func() ([]byte, error)
	// Passphrase returns the passphrase of an encrypted identity file.
	Passphrase func(keyFile string) ([]byte, error)
	// RunID, when set, names the temporary files of the run's uploads, so
	// that a resume or a rollback of the run finds those a cut-off upload
	// left (remote.Config.TempTag).
	RunID string
	// SSHConfig is the operator's ssh_config, nil for none; the
	// inventory's defaults.ssh_config: false ignores it too.
	SSHConfig *sshcfg.Config
	// ProxyStderr receives what ProxyCommands print on stderr (the verbose
	// log); nil discards it.
	ProxyStderr io.Writer

	handshakes *remote.Handshakes // set by RemoteDialer
	jumps      *remote.JumpPool   // set by RemoteDialer
}

// jumpPoolSize is how many connections the hosts behind one bastion share:
// a few, so that one slow channel does not hold up every host's traffic.
const jumpPoolSize = 4

// RemoteDialer connects to inventory hosts over SSH with their resolved
// connection settings.
func RemoteDialer(inv *inventory.Inventory, o ConnectOptions) Dialer {
	// One parse of the known_hosts files for all the dials, instead of one
	// per dial (O(N²) for N hosts in one file); the cache still re-reads a
	// file that changed, e.g. after trust on first use.
	hostKeys := remote.NewHostKeyCache()
	// One count of handshakes in flight per sshd across all the dials, so
	// that hosts behind one bastion stay under its MaxStartups.
	o.handshakes = remote.NewHandshakes()
	// The hosts behind one bastion share a few connections to it.
	o.jumps = remote.NewJumpPool(jumpPoolSize)
	return func(ctx context.Context, t inventory.Target) (Host, error) {
		rc, err := inv.ResolveSSH(t, o.SSHConfig)
		if err != nil {
			return nil, fmt.Errorf("dial %w", err)
		}
		return remote.Dial(ctx, remoteConfig(rc, o, hostKeys))
	}
}

func remoteConfig(rc inventory.ResolvedConn, o ConnectOptions, hostKeys *remote.HostKeyCache) remote.Config {
	c := remote.Config{
		Name:            rc.Name,
		Address:         rc.Address,
		Port:            rc.Port,
		User:            rc.User,
		IdentityFiles:   rc.IdentityFiles,
		Agent:           rc.Agent,
		KnownHosts:      rc.KnownHosts,
		TrustOnFirstUse: o.TrustOnFirstUse && !rc.StrictHostKeys,
		HostKeyCache:    hostKeys,
		ConnectTimeout:  rc.ConnectTimeout,
		Become:          rc.Become,
		Passphrase:      o.Passphrase,
		TempTag:         o.RunID,

		KeepAlive:        rc.KeepAlive,
		ProxyCommand:     rc.ProxyCommand,
		ProxyStderr:      o.ProxyStderr,
		CertificateFiles: rc.CertificateFiles,
		IdentitiesOnly:   rc.IdentitiesOnly,
		AgentSocket:      rc.AgentSocket,
		HashKnownHosts:   rc.HashKnownHosts,
		Handshakes:       o.handshakes,
		JumpPool:         o.jumps,
		MaxStartups:      rc.MaxStartups,
		ConnectRetries:   rc.ConnectRetries,
	}
	if rc.Become && rc.BecomePassword {
		c.BecomePassword = o.BecomePassword
	}
	if rc.Jump != nil {
		j := remoteConfig(*rc.Jump, o, hostKeys)
		j.Become, j.BecomePassword, j.TempTag = false, nil, "" // a bastion only forwards
		c.Jump = &j
	}
	return c
}
