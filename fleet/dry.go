package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/remote"
)

// DryDialer wraps a Dialer so that its hosts change nothing: they answer
// every read (stat, systemctl show, the read-only scripts) from the real host
// and report each change as what would be done. A plan is a rollout through
// a DryDialer: the same steps, the same code.
func DryDialer(d Dialer, rep Reporter) Dialer {
	return func(ctx context.Context, t inventory.Target) (Host, error) {
		h, err := d(ctx, t)
		if err != nil {
			return nil, err
		}
		return &dryHost{Host: h, rep: rep}, nil
	}
}

type dryHost struct {
	Host
	rep Reporter
	// manifestNoted: the run's manifest is rewritten after every step; the
	// plan says once that it would be kept.
	manifestNoted bool
}

func (d *dryHost) would(msg string) {
	d.rep.Report(Event{Time: time.Now(), Host: d.Name(), Phase: PhaseInfo, Step: StepRun, Batch: -1, Message: "would " + msg})
}

// readOnly lists the commands a dry host runs for real.
func readOnly(argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	switch argv[0] {
	case "cat", "stat", "sha256sum", "id", "true":
		return true
	case "journalctl":
		// Reads, unless asked to rotate, vacuum, flush or write keys.
		for _, a := range argv[1:] {
			for _, w := range []string{"--rotate", "--vacuum", "--flush", "--sync", "--relinquish", "--smart-relinquish", "--setup-keys", "--update-catalog"} {
				if strings.HasPrefix(a, w) {
					return false
				}
			}
		}
		return true
	case "systemctl":
		return len(argv) > 1 && (argv[1] == "show" || argv[1] == "is-active" || argv[1] == "cat" || argv[1] == "--version")
	case "sh":
		return isReadOnlyScript(argv)
	}
	return false
}

func (d *dryHost) Run(ctx context.Context, argv ...string) ([]byte, error) {
	if readOnly(argv) {
		return d.Host.Run(ctx, argv...)
	}
	d.would("run: " + describe(argv))
	return nil, nil
}

func (d *dryHost) RunInput(ctx context.Context, stdin []byte, argv ...string) ([]byte, error) {
	if readOnly(argv) {
		return d.Host.RunInput(ctx, stdin, argv...)
	}
	if len(argv) > 4 && argv[0] == "sh" && argv[2] == scriptSaveManifest.body {
		if !d.manifestNoted {
			d.would("record the run in " + argv[4])
		}
		d.manifestNoted = true
		return nil, nil
	}
	d.would(fmt.Sprintf("run (with %d bytes of input): %s", len(stdin), describe(argv)))
	return nil, nil
}

func (d *dryHost) Upload(_ context.Context, r io.Reader, dst string, mode fs.FileMode, owner string) (string, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	d.would(fmt.Sprintf("write %s (%d bytes, sha256 %s, mode %s, owner %s)", dst, n, short(sum), octalMode(mode), owner))
	return sum, nil
}

// describe shows a command; a script is shown by its name, not its text.
func describe(argv []string) string {
	if len(argv) > 3 && argv[0] == "sh" && argv[1] == "-c" {
		return strings.TrimPrefix(argv[3], "fleetfix-") + " " + remote.QuoteArgs(argv[4:])
	}
	return remote.QuoteArgs(argv)
}

// PlanOptions turns rollout options into a plan's: the same rollout through
// a DryDialer (reporting what it would do to o.Reporter), ending after the
// drop-ins (reload and restart would only show their commands), on every
// host at once and with no failure budget or rollback since nothing
// changes, and with no local manifests. Its events say what the run would
// do: the run line is the policy the run will apply (PolicyLine), not the
// plan's flat one, and a push says it would write.
func PlanOptions(o Options) Options {
	targets := o.Targets
	if targets == nil {
		targets = o.Inventory.Hosts
	}
	o.plan = PolicyLine(o.Inventory, o.SSHConfig, targets)
	inv := *o.Inventory
	all := inventory.Amount{N: 100, Percent: true}
	inv.Rollout.Canary, inv.Rollout.Batch, inv.Rollout.FailureBudget = 0, all, all
	inv.Rollout.OnFailure = inventory.OnFailureStop // nothing to undo
	o.Inventory, o.Dial, o.LastStep, o.StateDir = &inv, DryDialer(o.Dial, o.Reporter), StepDropIn, ""
	return o
}
