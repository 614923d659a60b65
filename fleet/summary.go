package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fleetfix/fleetfix/inventory"
)

// summarySuffix ends the name of a run's stored summary in RemoteRunsDir,
// beside the run's manifest (<run id>.json): listRuns, which wants
// <run id>.json, passes over it.
const summarySuffix = ".summary.json"

// RemoteSummaryPath is where a host keeps the stored summary of run id.
func RemoteSummaryPath(id string) string { return RemoteRunsDir + "/" + id + summarySuffix }

// StoreSummary writes data, the stored summary of run id, beside the
// manifests on each of targets, atomically as a manifest is written, up to
// parallel hosts at once. It runs detached from ctx's cancellation, each
// host within manifestTimeout: a run the operator stopped is recorded all
// the same. It returns each target's error (nil: stored), in targets'
// order.
func StoreSummary(ctx context.Context, dial Dialer, targets []inventory.Target, parallel int, id string, data []byte) []error {
	if !ValidRunID(id) {
		err := fmt.Errorf("store summary: run id %q: want YYYYMMDD_HHMMSS", id)
		errs := make([]error, len(targets))
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	sum := sha256.Sum256(data)
	errs := make([]error, len(targets))
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i, t := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), manifestTimeout)
			defer cancel()
			errs[i] = storeSummary(hctx, dial, t, id, data, hex.EncodeToString(sum[:]))
		})
	}
	wg.Wait()
	return errs
}

func storeSummary(ctx context.Context, dial Dialer, t inventory.Target, id string, data []byte, sha string) error {
	h, err := dial(ctx, t)
	if err != nil {
		return fmt.Errorf("store summary: connect: %w", err)
	}
	defer func() { _ = h.Close() }()
	if _, err := runScriptInput(ctx, h, data, scriptSaveManifest, RemoteSummaryPath(id), sha); err != nil {
		return fmt.Errorf("store summary: %w", err)
	}
	return nil
}

// ErrNoSummary is ReadSummary's answer for a host that keeps no stored
// summary of the run asked for (or of any run).
var ErrNoSummary = errors.New("no stored run summary on the host")

// ReadSummary reads the stored summary of run id from host t, or of the
// latest run that has one when id is "", and returns it with its run id.
func ReadSummary(ctx context.Context, dial Dialer, t inventory.Target, id string) ([]byte, string, error) {
	if id != "" && !ValidRunID(id) {
		return nil, "", fmt.Errorf("run id %q: want the form YYYYMMDD_HHMMSS", id)
	}
	h, err := dial(ctx, t)
	if err != nil {
		return nil, "", fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = h.Close() }()
	out, err := runScript(ctx, h, scriptListRuns, RemoteRunsDir)
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	var ids []string
	for _, f := range strings.Fields(string(out)) {
		if rid, ok := strings.CutSuffix(f, summarySuffix); ok && ValidRunID(rid) {
			ids = append(ids, rid)
		}
	}
	switch {
	case len(ids) == 0, id != "" && !slices.Contains(ids, id):
		return nil, "", ErrNoSummary
	case id == "":
		id = slices.Max(ids)
	}
	b, err := h.Run(ctx, "cat", "--", RemoteSummaryPath(id))
	if err != nil {
		return nil, "", fmt.Errorf("read summary %s: %w", id, err)
	}
	return b, id, nil
}
