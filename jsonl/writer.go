package jsonl

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
)

// Writer writes one JSON object per line; it is a fleet.Reporter, safe for
// concurrent use.
type Writer struct {
	mu    sync.Mutex
	enc   *json.Encoder
	runID string
}

// NewWriter writes the lines of the run runID ("" when not known) to w.
func NewWriter(w io.Writer, runID string) *Writer {
	return &Writer{enc: json.NewEncoder(w), runID: runID}
}

// Report writes e's line.
func (w *Writer) Report(e fleet.Event) { w.write(NewEvent(e, w.runID)) }

// Summary writes the command's summary line.
func (w *Writer) Summary(command string, s *fleet.Summary) { w.write(NewSummary(command, s)) }

// Scan writes scan's line.
func (w *Writer) Scan(results []fleet.ScanResult, took time.Duration) {
	w.write(NewScan(results, took))
}

// write drops a line the output refuses: a reporter has no one to tell, and
// the run must not stop for its output.
func (w *Writer) write(v any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.enc.Encode(v)
}
