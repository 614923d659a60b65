package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/jsonl"
	"github.com/spf13/cobra"
)

// summaryFile is a run's stored summary in its state directory,
// <state-dir>/runs/<run id>/, beside the run's local manifests.
const summaryFile = "summary.json"

// record stores the summaries of a command's runs: in the state directory
// and on each host the run reached, with the inventory's policy and who ran
// it from where.
type record struct {
	stateDir string
	inv      *inventory.Inventory
	targets  []inventory.Target
	dial     fleet.Dialer
	reboot   bool // the run cold-rebooted its hosts
	started  time.Time
	errOut   io.Writer // where a summary that could not be stored is told
}

// record is the record of a run of the flags' command on targets of inv,
// which reaches them with dial, started at started.
func (f *commonFlags) record(cmd *cobra.Command, inv *inventory.Inventory, targets []inventory.Target, dial fleet.Dialer, reboot bool, started time.Time) record {
	return record{stateDir: f.stateDir, inv: inv, targets: targets, dial: dial, reboot: reboot, started: started, errOut: cmd.ErrOrStderr()}
}

// store stores the summary of the command's run s (nil: the run did not
// start, nothing to store) under run id; a store that fails is reported
// on errOut and does not fail the command, whose work is done.
func (rc record) store(ctx context.Context, command, id string, s *fleet.Summary) {
	if s == nil || !fleet.ValidRunID(id) {
		return
	}
	sum := jsonl.NewRecord(command, s, rc.inv, rc.reboot, whoRan(rc.inv, rc.started))
	sum.RunID = id
	data, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		fmt.Fprintln(rc.errOut, "fleetfix: run summary:", err)
		return
	}
	data = append(data, '\n')
	if rc.stateDir != "" {
		if err := writeAtomic(filepath.Join(rc.stateDir, "runs", id, summaryFile), data); err != nil {
			fmt.Fprintln(rc.errOut, "fleetfix: run summary not stored locally:", err)
		}
	}
	reached := reachedHosts(rc.targets, s)
	errs := fleet.StoreSummary(ctx, rc.dial, reached, rc.inv.Rollout.MaxParallel, id, data)
	for i, err := range errs {
		if err != nil {
			fmt.Fprintf(rc.errOut, "fleetfix: run summary not stored on %s: %v\n", reached[i].Name, err)
		}
	}
}

// reachedHosts are the targets the run s connected to and may reach still:
// not those it never started, could not reach, or lost at their reboot.
func reachedHosts(targets []inventory.Target, s *fleet.Summary) []inventory.Target {
	byName := map[string]fleet.HostResult{}
	for _, h := range s.Hosts {
		byName[h.Host] = h
	}
	var out []inventory.Target
	for _, t := range targets {
		if h, ok := byName[t.Name]; ok && fleet.Reachable(h) {
			out = append(out, t)
		}
	}
	return out
}

// whoRan is the operator, this machine and the inventory, for a run
// started at started.
func whoRan(inv *inventory.Inventory, started time.Time) jsonl.Origin {
	o := jsonl.Origin{Started: started}
	if u, err := user.Current(); err == nil {
		o.User = u.Username
	}
	o.Controller, _ = os.Hostname() // "" when unknown: the summary says less
	if inv != nil {
		o.Inventory = inv.Path
	}
	return o
}

// writeAtomic writes data to path through a temporary file beside it, so
// that a reader never finds half a summary.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".summary-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone once renamed
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// errNoLocalSummary: the state directory keeps no summary of the run
// asked for (or of any run).
var errNoLocalSummary = errors.New("no stored run summary")

// localSummary reads run id's stored summary from the state directory, or
// the latest run's when id is "".
func localSummary(stateDir, id string) ([]byte, error) {
	if stateDir == "" {
		return nil, errNoLocalSummary
	}
	if id == "" {
		ids, err := localRuns(stateDir)
		if err != nil || len(ids) == 0 {
			return nil, errors.Join(errNoLocalSummary, err)
		}
		id = slices.Max(ids)
	}
	b, err := os.ReadFile(filepath.Join(stateDir, "runs", id, summaryFile)) //nolint:gosec // G304: id is a checked run id in the operator's state directory
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoLocalSummary
	}
	return b, err
}

// localRuns are the runs with a stored summary in the state directory.
func localRuns(stateDir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(stateDir, "runs"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if !fleet.ValidRunID(e.Name()) {
			continue
		}
		if _, err := os.Stat(filepath.Join(stateDir, "runs", e.Name(), summaryFile)); err == nil {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// hostSummary reads run id's stored summary (the latest run's when id is
// "") from the inventory's hosts, up to the policy's parallel at once: the
// newest any host keeps.
func hostSummary(ctx context.Context, inv *inventory.Inventory, dial fleet.Dialer, id string) ([]byte, error) {
	type found struct {
		data []byte
		id   string
		err  error
	}
	got := make([]found, len(inv.Hosts))
	sem := make(chan struct{}, max(inv.Rollout.MaxParallel, 1))
	var wg sync.WaitGroup
	for i, t := range inv.Hosts {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			got[i].data, got[i].id, got[i].err = fleet.ReadSummary(ctx, dial, t, id)
		})
	}
	wg.Wait()
	best := -1
	var errs []error
	for i, f := range got {
		switch {
		case f.err == nil && (best < 0 || f.id > got[best].id):
			best = i
		case f.err != nil && !errors.Is(f.err, fleet.ErrNoSummary):
			errs = append(errs, fmt.Errorf("%s: %w", inv.Hosts[i].Name, f.err))
		}
	}
	if best < 0 {
		return nil, errors.Join(append([]error{fleet.ErrNoSummary}, errs...)...)
	}
	return got[best].data, nil
}
