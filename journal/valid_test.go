package journal

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validCases are lines on both sides of json.Valid's edges.
var validCases = []string{
	`{}`, ` {}`, `{} `, "{}\n", `{`, `}`, `[]`, `"x"`, `1`, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{"a":}`, `{a:1}`,
	`{"a":[1,2,[3,{"b":null}]]}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":true,"b":false,"c":null}`, `{"a":tru}`, `{"a":truex}`,
	`{"a":nul}`, `{"a":-0}`, `{"a":-}`, `{"a":01}`, `{"a":1.}`, `{"a":1.5e}`, `{"a":1.5e+3}`, `{"a":1E-3}`, `{"a":.5}`,
	`{"a":"\u00e9\n\t\"\\\/"}`, `{"a":"\u00g0"}`, `{"a":"\u12"}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\xff\xfe\"}",
	`{"a":"unterminated}`, `{"a":1}{"b":2}`, `{"a":1} x`, "{\"a\":1}\t\r\n ", `{"a" : [ 1 , 2 ] }`,
	strings.Repeat(`{"a":`, maxDepth-1) + "1" + strings.Repeat("}", maxDepth-1),
	strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth),
	strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1),
}

// json.Valid plus a leading '{' is what the parser took before.
func wantValidObject(line []byte) bool { return json.Valid(line) && len(line) > 0 && line[0] == '{' }

func TestValidObject(t *testing.T) {
	for _, c := range validCases {
		if got, want := validObject([]byte(c)), wantValidObject([]byte(c)); got != want {
			t.Errorf("validObject(%.60q) = %v, json.Valid says %v", c, got, want)
		}
	}
	files, _ := filepath.Glob(filepath.Join(journalDir, "*.jsonl"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for n, l := range strings.Split(string(data), "\n") {
			if got, want := validObject([]byte(l)), wantValidObject([]byte(l)); got != want {
				t.Errorf("%s:%d: validObject = %v, json.Valid says %v", name, n+1, got, want)
			}
		}
	}
}

// FuzzValidObject: validObject agrees with json.Valid on any line.
func FuzzValidObject(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if got, want := validObject(line), wantValidObject(line); got != want {
			t.Fatalf("validObject(%q) = %v, json.Valid says %v", line, got, want)
		}
	})
}
