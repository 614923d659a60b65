// Package fleet is fleetfix's engine: it runs a service fix across an
// inventory's hosts and proves it, and undoes it. It never draws: it emits
// Events to a Reporter, which the TUI, plain text and JSON lines consume.
//
// Each command's work on a host is a flow, a list of steps named once in
// pipeline.go (a rollout: connect, preflight, backup, push, drop-in,
// reload, restart and, when the policy asks for the cold reboot, the
// settle wait, the guard, the reboot, the journal's stop times, verify and
// confirm). One runner (flow.go) runs every flow: each step between its
// start and done events, with its timeout, recorded in the on-host
// manifest, which is saved after each step that replaced files; the host's
// lock is taken where the flow says (a rollout's and a reboot's after
// preflight found work, with the manifest's first save) and released by
// the last save (record.go). Rolling batches (rolling.go) run a flow over
// the hosts, canaries first, within the failure budget. A plan is a
// rollout through a host that changes nothing (dry.go); the steps' remote
// scripts are in scripts/.
package fleet

import (
	"context"
	"io"
	"io/fs"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/remote"
)

// Host is what the steps need of a host. *remote.Client satisfies it; so do
// the dry-run host (which runs only read-only commands) and test fakes.
type Host interface {
	Name() string
	// Run runs argv (each element passed literally) and returns stdout; a
	// non-zero exit is an error with an ExitStatus() int method.
	Run(ctx context.Context, argv ...string) ([]byte, error)
	RunInput(ctx context.Context, stdin []byte, argv ...string) ([]byte, error)
	// Upload writes r to dst atomically, with mode and owner, and returns the
	// sha256 of what is now at dst.
	Upload(ctx context.Context, r io.Reader, dst string, mode fs.FileMode, owner string) (string, error)
	Stat(ctx context.Context, path string) (remote.FileInfo, error)
	// Probe checks that sshd accepts connections, without logging in.
	Probe(ctx context.Context, timeout time.Duration) error
	// Reconnect dials again; the host key is verified again.
	Reconnect(ctx context.Context) error
	// Lost returns a channel closed when the connection open now ends (the
	// host closed it, keepalives gave up, or Reconnect or Close replaced
	// it), learnt without sending the host anything.
	Lost() <-chan struct{}
	Close() error
}

// Dialer connects to an inventory host.
type Dialer func(ctx context.Context, t inventory.Target) (Host, error)
