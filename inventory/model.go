package inventory

import (
	"bytes"
	"fmt"
	"io/fs"
	"time"
)

// Inventory is a loaded and validated fleet description: how to reach the
// hosts, what to roll out to them and how. Build one with Load or Parse;
// every defaulted field is filled in, so callers never re-apply defaults.
type Inventory struct {
	// Path is the inventory file as given to Load or Parse.
	Path string
	// Defaults is the connection every host and bastion starts from, with
	// the built-in defaults filled in (user root, port 22, agent on, ...).
	Defaults Conn
	// Bastions are jump hosts that are not rollout targets. A host may
	// serve as a bastion too, named by proxy_jump like one.
	Bastions []Target
	// Hosts are the rollout targets, in rollout order.
	Hosts []Target
	// Groups maps each group name, from the groups section and from
	// hosts[].groups alike, to its member host names in inventory order.
	Groups map[string][]string
	// Services are the fixes to roll out, in the order the file lists them.
	Services []Service
	// Rollout is the rollout policy, with defaults filled in.
	Rollout Policy
	// SSHConfig is defaults.ssh_config: resolve hosts through the
	// operator's ssh_config (see ResolveSSH). True unless the file says
	// false; false in an Inventory built by hand.
	SSHConfig bool

	// dir is the absolute directory of Path, captured at load time so that
	// relative paths keep meaning the same thing if the process later
	// changes its working directory.
	dir string
	// given is the defaults section's own keys, without the built-in
	// defaults: what ssh_config may not override. Nil when built by hand.
	given *Conn
}

// Conn is a set of SSH connection settings. In Inventory.Defaults it holds
// the effective defaults; in a Target it holds only its own overrides, and
// a zero field (nil for pointers and lists) means "inherit". Use
// Inventory.Resolve to get the settings a host actually connects with.
type Conn struct {
	User string
	Port int
	// IdentityFiles are private keys to offer. A host's non-nil list
	// replaces the default one; an empty non-nil list means "none".
	// Paths may start with ~ and may be relative to the inventory file;
	// Resolve expands them.
	IdentityFiles []string
	// Agent enables keys from ssh-agent (when SSH_AUTH_SOCK is set).
	Agent *bool
	// KnownHosts are the known_hosts files host keys are checked against,
	// with the same override and path rules as IdentityFiles.
	KnownHosts []string
	// ConnectTimeout bounds one SSH dial and handshake (one hop).
	ConnectTimeout time.Duration
	// Become runs remote commands through sudo, for non-root users.
	Become *bool
	// BecomePassword asks the operator for the sudo password once per run;
	// the password itself never lives in the inventory.
	BecomePassword *bool
	// ProxyJump names the bastion or host to connect through; ProxyJumpNone
	// connects directly even when the defaults name a bastion.
	ProxyJump string
	// MaxStartups bounds the SSH handshakes fleetfix runs at once with
	// this machine, as a bastion: sshd drops those past its MaxStartups.
	MaxStartups int
	// ConnectRetries is how often a handshake the machine dropped is
	// retried, after a jittered backoff, within the connect timeout.
	ConnectRetries *int
	// ProxyCommand is a command whose stdin and stdout carry the
	// connection, as ssh_config's ProxyCommand (%h %p %r %n %% expanded,
	// run without a shell); it takes ProxyJump's place.
	ProxyCommand string
}

// ProxyJumpNone is the proxy_jump value that turns off a default bastion for
// one host. It is OpenSSH's spelling of the same thing; for that reason no
// bastion may be called "none".
const ProxyJumpNone = "none"

// Target is a machine the inventory names: a rollout target (Inventory.Hosts)
// or a bastion (Inventory.Bastions). It is not called Host because the
// engine uses that name for a connected machine it talks to.
type Target struct {
	Name    string
	Address string
	// Groups lists every group the host belongs to: those from its own
	// groups key first, then those from the groups section.
	Groups []string
	// Conn holds this host's connection overrides (see Conn).
	Conn
	// Line is the line of the host's entry in the inventory file, so later
	// stages can point the operator at it.
	Line int
}

// Service is one systemd unit to fix: the files to push, the drop-in to
// install, and how to tell that it is healthy afterwards.
type Service struct {
	Unit      string // full unit name, e.g. smart-proxy.service
	Artifacts []Artifact
	DropIn    DropIn
	Health    Health
	Restart   Restart
	Verify    Verify
	// Hosts and Groups select the hosts the service applies to; both
	// empty: every host. Use Inventory.ServicesOf for a host's services.
	Hosts, Groups []string
	// Overrides change the service on the hosts they select, in file
	// order, a later one winning.
	Overrides []Override
}

// Restart says how the rollout's restart treats the build it replaces.
type Restart struct {
	// OldStopTimeout bounds the old build's stop at the restart: past it,
	// fleetfix SIGKILLs the unit's processes and the restart goes on to start
	// the new build. 0: the unit's own TimeoutStopSec applies.
	OldStopTimeout time.Duration
}

// Artifact is a local file pushed to a remote path.
type Artifact struct {
	Src  string // absolute local path
	Dest string // absolute, clean remote path
	// Mode is the remote file's mode. It uses Go's fs.FileMode encoding, so
	// setuid, setgid and sticky are fs.ModeSetuid, fs.ModeSetgid and
	// fs.ModeSticky, not 04000/02000/01000. Nil keeps an existing file's
	// mode and gives a new file 0644.
	Mode *fs.FileMode
	// Owner is "user" or "user:group"; empty keeps an existing file's owner
	// and gives a new file root:root.
	Owner string
}

// DropIn is a systemd drop-in file for a service.
type DropIn struct {
	Name     string // plain file name ending in .conf
	Section  string // unit file section, e.g. Service
	Settings []Setting
}

// Setting is one Key=Value line of a drop-in. A key may repeat, which
// systemd uses to reset list settings (an empty ExecStart= first).
type Setting struct{ Key, Value string }

// Health says how to tell that a service works after its restart.
type Health struct {
	TCP     string   // host:port that must accept a connection, checked on the host; empty = none
	Command []string // argv run on the host, exit 0 = healthy; nil = none
	Timeout time.Duration
}

// Verify is what a service's stop at the reboot after the rollout must show
// for the host to pass: the proof that the fix took.
type Verify struct {
	AllowSIGKILL bool          // a stop that ended in SIGKILL passes
	MaxStop      time.Duration // the longest stop that passes; 0: any
	// MinInFlight is the fewest TCP connections the unit must have had
	// established when the reboot began: a stop with nothing to cancel
	// proves little.
	MinInFlight int
}

// Policy is the rollout policy.
type Policy struct {
	Canary        int    // hosts rolled out first, as a batch of their own
	Batch         Amount // hosts per batch after the canaries
	MaxParallel   int    // most hosts in flight at once
	FailureBudget Amount // the run halts once MORE than this many hosts failed
	Reboot        bool   // cold-reboot every host after the restart
	// ConfirmTimeout is how long after the reboot's boot a host waits for
	// fleetfix to confirm the rollout before its guard restores the run's
	// backups; 0: no guard.
	ConfirmTimeout time.Duration
	// LockLease is how long a host's lock holds without its run renewing
	// it: the run renews it every third of that, and a lock whose lease ran
	// out (on the host's clock) is taken over by the next run. A step that
	// may take longer (a reboot) extends it first. Zero, as in a Policy
	// built by hand, is DefaultLockLease.
	LockLease time.Duration
	// OnFailure is what becomes of a host that fails once it has been
	// changed. The zero value stops, as a Policy built by hand always did;
	// DefaultPolicy (and so every loaded inventory) rolls back.
	OnFailure OnFailure
	// Restart is how a host's units restart: RestartTogether (one systemd
	// transaction) or RestartSequential (one after the other, each healthy
	// before the next).
	Restart  string
	Timeouts Timeouts

	// Settle is how long a host waits between the restart and the reboot,
	// so that clients reconnect and the stop at the reboot has work to do.
	Settle time.Duration
	// RebootInhibitors is what a host's block inhibitors on shutdown do to
	// a run that reboots: InhibitorsRespect (also ""): the host fails in
	// preflight, before any change; InhibitorsIgnore: the reboot goes past
	// them.
	RebootInhibitors string
}

// The values of rollout.reboot_inhibitors.
const (
	InhibitorsRespect = "respect"
	InhibitorsIgnore  = "ignore"
)

// OnFailure is what a rollout does with a host that failed after a change.
type OnFailure string

// What a failed host becomes.
const (
	// OnFailureRollback puts the host back at once, from its manifest.
	OnFailureRollback OnFailure = "rollback"
	// OnFailureStop leaves the host as it failed, for an operator.
	OnFailureStop OnFailure = "stop"
)

// Timeouts bound each step of a host's rollout.
type Timeouts struct {
	Connect    time.Duration // whole connect step: every hop, auth, and retries
	Preflight  time.Duration
	Backup     time.Duration
	Push       time.Duration
	Reload     time.Duration
	Restart    time.Duration
	RebootDown time.Duration // until the host stops answering after the reboot command
	RebootUp   time.Duration // until it answers over SSH again
	Journal    time.Duration
}

// Restart orders of Policy.Restart.
const (
	RestartTogether   = "together"
	RestartSequential = "sequential"
)

// ResolvedConn is the connection a host actually uses: defaults and
// overrides merged, paths expanded, and the bastion chain resolved.
type ResolvedConn struct {
	Name, Address  string
	User           string
	Port           int
	IdentityFiles  []string
	KnownHosts     []string
	Agent          bool
	Become         bool
	BecomePassword bool
	ConnectTimeout time.Duration
	// Jump is the bastion to connect through first, nil for a direct
	// connection. It may itself have a Jump.
	Jump *ResolvedConn

	// MaxStartups and ConnectRetries: see Conn.
	MaxStartups    int
	ConnectRetries int

	// The rest come from ssh_config only (ResolveSSH), or proxy_command.

	// Alias is the inventory's address when ssh_config's HostName turned it
	// into Address; "" otherwise.
	Alias string
	// CertificateFiles are user certificates to offer with the identity
	// whose public key they certify.
	CertificateFiles []string
	// IdentitiesOnly offers agent keys only if an identity file names them.
	IdentitiesOnly bool
	// AgentSocket is the agent to ask (IdentityAgent); "" for $SSH_AUTH_SOCK.
	AgentSocket string
	// ProxyCommand is the argv of the command carrying the connection,
	// tokens expanded; nil for none. It replaces Jump.
	ProxyCommand []string
	// StrictHostKeys refuses an unknown host key even with trust on first
	// use (StrictHostKeyChecking yes).
	StrictHostKeys bool
	// HashKnownHosts records a key trusted on first use hashed.
	HashKnownHosts bool
	// KeepAlive is ServerAliveInterval; 0 keeps the SSH layer's default.
	KeepAlive time.Duration
	// Origin says, by setting (address, user, port, identity_files,
	// certificate_files, agent, known_hosts, connect_timeout, keepalive,
	// proxy, ...), where its value came from: FromHost, FromDefaults,
	// FromBuiltin or "ssh_config FILE:LINE". Only Explain fills it.
	Origin map[string]string
}

// Built-in defaults, documented in inventory.example.yaml.
const (
	defaultUser           = "root"
	defaultPort           = 22
	defaultKnownHosts     = "~/.ssh/known_hosts"
	defaultConnectTimeout = 10 * time.Second
	defaultMaxStartups    = 8 // under OpenSSH's MaxStartups 10
	defaultConnectRetries = 2
	defaultDropInName     = "override.conf"
	defaultDropInSection  = "Service"
	defaultHealthTimeout  = 15 * time.Second
	defaultCanary         = 1
	defaultMaxParallel    = 10
	maxUnitNameLen        = 255 // systemd's UNIT_NAME_MAX less the NUL
	dropInDir             = "/etc/systemd/system"
)

// DefaultDropIn returns the drop-in used when a service has no dropin or no
// settings: it makes systemd give up on a hung stop after 20s instead of 90s
// and signal the whole control group, which is the fix fleetfix exists for.
func DefaultDropIn() DropIn {
	return DropIn{
		Name:    defaultDropInName,
		Section: defaultDropInSection,
		Settings: []Setting{
			{"TimeoutStopSec", "20s"},
			{"KillMode", "mixed"},
			{"KillSignal", "SIGTERM"},
			{"FinalKillSignal", "SIGKILL"},
		},
	}
}

// DefaultLockLease is a host lock's lease when the inventory sets none.
const DefaultLockLease = 2 * time.Minute

// MinLockLease is the shortest lease an inventory may set: the lease is
// kept on the host in whole seconds and renewed every third of it.
const MinLockLease = 3 * time.Second

// DefaultPolicy returns the rollout policy used for everything the rollout
// section leaves out.
func DefaultPolicy() Policy {
	return Policy{
		Canary:           defaultCanary,
		Batch:            Amount{N: 25, Percent: true},
		MaxParallel:      defaultMaxParallel,
		FailureBudget:    Amount{},
		Reboot:           true,
		OnFailure:        OnFailureRollback,
		Restart:          RestartTogether,
		RebootInhibitors: InhibitorsRespect,
		ConfirmTimeout:   10 * time.Minute,
		LockLease:        DefaultLockLease,
		Timeouts: Timeouts{
			Connect:    15 * time.Second,
			Preflight:  30 * time.Second,
			Backup:     60 * time.Second,
			Push:       120 * time.Second,
			Reload:     30 * time.Second,
			Restart:    60 * time.Second,
			RebootDown: 120 * time.Second,
			RebootUp:   300 * time.Second,
			Journal:    30 * time.Second,
		},
	}
}

// Path returns where the drop-in lives on a host for unit.
func (d DropIn) Path(unit string) string {
	return dropInDir + "/" + unit + ".d/" + d.Name
}

// Render returns the drop-in file's content. It is deterministic (settings
// in inventory order) so that an unchanged inventory yields a byte-identical
// file and a rerun can tell there is nothing to do.
func (d DropIn) Render() []byte {
	var b bytes.Buffer
	b.WriteString("# Managed by fleetfix: the next rollout overwrites local edits.\n")
	fmt.Fprintf(&b, "[%s]\n", d.Section)
	for _, s := range d.Settings {
		fmt.Fprintf(&b, "%s=%s\n", s.Key, s.Value)
	}
	return b.Bytes()
}
