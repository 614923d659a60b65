package duration

import (
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		d            time.Duration
		format, stop string
	}{
		{34 * time.Millisecond, "34ms", "0.034s"},
		{73600 * time.Microsecond, "74ms", "0.074s"},
		{999 * time.Millisecond, "999ms", "0.999s"},
		{time.Second, "1.00s", "1.00s"},
		{20310 * time.Millisecond, "20.31s", "20.31s"},
		{62790 * time.Millisecond, "1m03s", "62.79s"},
		{83 * time.Second, "1m23s", "83.00s"},
		{63 * time.Minute, "1h03m", "3780.00s"},
	}
	for _, tt := range tests {
		if got := Format(tt.d); got != tt.format {
			t.Errorf("Format(%v) = %q, want %q", tt.d, got, tt.format)
		}
		if got := Stop(tt.d); got != tt.stop {
			t.Errorf("Stop(%v) = %q, want %q", tt.d, got, tt.stop)
		}
	}
}
