package journal

import (
	"bytes"
	"testing"
)

// BenchmarkParseShutdown parses the largest capture: a scan parses one such
// journal per host, and the parse was a fifth of a 500-host scan's CPU.
func BenchmarkParseShutdown(b *testing.B) {
	data := readJournalFile(b, "restart-then-reboot.jsonl")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseShutdown(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
