package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/fleetfix/fleetfix/inventory"
)

// dialTo dials the scripted hosts by name; a name without one is refused.
func dialTo(hosts ...*scriptedHost) Dialer {
	return func(_ context.Context, t inventory.Target) (Host, error) {
		for _, h := range hosts {
			if h.name == t.Name {
				return h, nil
			}
		}
		return nil, errors.New("connection refused")
	}
}

// The summary goes beside the manifests, through the manifest's atomic
// save, with its sha256; a host that cannot be reached says so, alone.
func TestStoreSummary(t *testing.T) {
	data := []byte(`{"schema":1}` + "\n")
	h1 := &scriptedHost{name: "h1", answers: map[string]answer{"save-manifest": ok("")}}
	errs := StoreSummary(context.Background(), dialTo(h1), []inventory.Target{{Name: "h1"}, {Name: "h2"}}, 2, "20261201_101500", data)
	if len(errs) != 2 || errs[0] != nil || errs[1] == nil {
		t.Fatalf("errors %v: want h1 stored, h2 refused", errs)
	}
	sum := sha256.Sum256(data)
	c := h1.calls[0]
	if c.name != "save-manifest" || len(c.args) != 2 || c.args[0] != "/var/lib/fleetfix/runs/20261201_101500.summary.json" ||
		c.args[1] != hex.EncodeToString(sum[:]) || string(c.stdin) != string(data) {
		t.Errorf("save: %s %q %q", c.name, c.args, c.stdin)
	}
	if errs := StoreSummary(context.Background(), dialTo(h1), []inventory.Target{{Name: "h1"}}, 1, "latest", data); errs[0] == nil {
		t.Error("a run id not of the form YYYYMMDD_HHMMSS was stored")
	}
}

func TestReadSummary(t *testing.T) {
	list := "20261130_090000.json\n20261130_090000.summary.json\n20261201_101500.json\n20261201_101500.summary.json\n20261202_000000.json\nguard\n"
	tests := []struct {
		name, id, list string
		wantID         string
		wantErr        error
	}{
		{"latest with a summary", "", list, "20261201_101500", nil},
		{"the run asked for", "20261130_090000", list, "20261130_090000", nil},
		{"a run without one", "20261202_000000", list, "", ErrNoSummary},
		{"no runs", "", "", "", ErrNoSummary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var read []string
			h := &scriptedHost{name: "h1", answers: map[string]answer{"list-runs": ok(tt.list), "cat": func(c call) ([]byte, error) {
				read = c.args
				return []byte("summary"), nil
			}}}
			b, id, err := ReadSummary(context.Background(), dialTo(h), inventory.Target{Name: "h1"}, tt.id)
			if !errors.Is(err, tt.wantErr) || id != tt.wantID {
				t.Fatalf("ReadSummary: %q, %v; want %q, %v", id, err, tt.wantID, tt.wantErr)
			}
			if err == nil && (string(b) != "summary" || len(read) != 2 || read[1] != RemoteSummaryPath(tt.wantID)) {
				t.Errorf("read %q: %q", read, b)
			}
		})
	}
}
