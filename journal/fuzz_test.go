package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParseShutdown: ParseShutdown never panics on any input, and what it
// returns holds together: each stop's Duration is End-Start, units are
// sorted slowest first and unique, every stop lies within the shutdown, the
// result renders as JSON, and the order of the lines does not matter.
func FuzzParseShutdown(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(journalDir, "*.jsonl"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		// A capture is ~45 KB: the fuzzer mutates and minimizes small
		// inputs far faster, so add each capture's marks and smart-proxy
		// records alone too.
		var small []string
		for _, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, "smart-proxy") || strings.Contains(l, msgLogindShutdown) || strings.Contains(l, `"reboot.target"`) {
				small = append(small, l)
			}
		}
		f.Add([]byte(strings.Join(small, "\n")))
	}
	for _, s := range []string{
		"",
		"\n",
		"{}\n",
		`{"__REALTIME_TIMESTAMP":"1","_PID":"1","JOB_TYPE":"start","UNIT":"reboot.target","JOB_ID":"5"}` + "\n" +
			`{"__REALTIME_TIMESTAMP":"2","_PID":"1","JOB_TYPE":"stop","UNIT":"a.service","JOB_ID":"6","MESSAGE_ID":"de5b426a63be47a7b6ac3eaac82e2f6f"}` + "\n" +
			`{"__REALTIME_TIMESTAMP":"1","_PID":"1","JOB_TYPE":"stop","UNIT":"a.service","JOB_ID":"6","MESSAGE_ID":"9d1aaa27d60140bd96365438aad20286"}`,
		`{"_SOURCE_REALTIME_TIMESTAMP":"9","MESSAGE_ID":"98268866d1d54a499c4e98921d93bc40","MESSAGE":[83,255]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseShutdown(bytes.NewReader(data))
		if err != nil {
			if s != nil {
				t.Fatalf("both a result and an error: %v", err)
			}
		} else {
			checkShutdown(t, s)
		}
		// The same lines in reverse order give the same answer.
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		slices.Reverse(lines)
		s2, err2 := ParseShutdown(strings.NewReader(strings.Join(lines, "\n") + "\n"))
		if (err == nil) != (err2 == nil) || errors.Is(err, ErrNoShutdown) != errors.Is(err2, ErrNoShutdown) || !reflect.DeepEqual(s, s2) {
			t.Fatalf("reversed lines: %+v, %v; in order: %+v, %v", s2, err2, s, err)
		}
	})
}

func checkShutdown(t *testing.T, s *Shutdown) {
	t.Helper()
	if s.Duration != s.End.Sub(s.Start) {
		t.Fatalf("shutdown Duration %v != End-Start %v", s.Duration, s.End.Sub(s.Start))
	}
	if s.End.Before(s.Start) {
		t.Fatalf("shutdown ends %v before it starts %v", s.End, s.Start)
	}
	seen := map[string]bool{}
	for i, u := range s.Units {
		if u.Duration != u.End.Sub(u.Start) {
			t.Fatalf("%s: Duration %v != End-Start %v", u.Unit, u.Duration, u.End.Sub(u.Start))
		}
		if seen[u.Unit] {
			t.Fatalf("%s twice", u.Unit)
		}
		seen[u.Unit] = true
		if i > 0 {
			p := s.Units[i-1]
			if p.Duration < u.Duration || p.Duration == u.Duration && p.Unit > u.Unit {
				t.Fatalf("not sorted: %s (%v) before %s (%v)", p.Unit, p.Duration, u.Unit, u.Duration)
			}
		}
		if u.Start.Before(s.Start) || u.End.After(s.End) {
			t.Fatalf("%s %v..%v outside the shutdown %v..%v", u.Unit, u.Start, u.End, s.Start, s.End)
		}
		if u.Unfinished && !u.End.Equal(s.End) {
			t.Fatalf("%s unfinished but ends at %v, not %v", u.Unit, u.End, s.End)
		}
		switch {
		case u.Result == "clean", u.Result == "timeout", u.Result == "unknown", strings.HasPrefix(u.Result, "failed:"):
		default:
			t.Fatalf("%s: result %q", u.Unit, u.Result)
		}
	}
	if _, err := json.Marshal(s); err != nil {
		t.Fatalf("JSON: %v", err)
	}
}

// FuzzParseRecord: parseRecord, which reads the members of a line in place,
// decodes every line as json.Unmarshal into a map did, field by field.
func FuzzParseRecord(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(journalDir, "*.jsonl"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.SplitN(string(data), "\n", 4)[:3] {
			f.Add([]byte(l))
		}
	}
	for _, s := range []string{
		`{"__REALTIME_TIMESTAMP":"1","MESSAGE":[83,255],"UNIT":["a","b"],"JOB_ID":null,"_PID":1}`,
		`{ "__REALTIME_TIMESTAMP" : "2" , "MESSAGE" : "a" , "MESSAGE" : "b" , "X" : {"UNIT":"u","y":[1,"]"]} }`,
		`{"__REALTIME_TIMESTAMP":"3","message":"lower","_pid":"7","\u0055NIT":"escaped key","CODE_FUNC":"caf\u00e9 \"q\""}`,
		`{"__REALTIME_TIMESTAMP":"4","_SOURCE_REALTIME_TIMESTAMP":"x","MESSAGE":"` + "\xff" + `","UNIT":true,"JOB_TYPE":-1.5e3}`,
		`{"__REALTIME_TIMESTAMP":"5","MESSAGE":"a"}{}`,
		`["__REALTIME_TIMESTAMP","6"]`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		line := bytes.TrimSpace(data) // as readJournal hands it over
		if len(line) == 0 {
			return
		}
		got, want := parseRecord(line), parseRecordMap(line)
		if (got == nil) != (want == nil) || got != nil && *got != *want {
			t.Fatalf("%q:\nparseRecord    %+v\nmap and fields %+v", line, got, want)
		}
	})
}

// parseRecordMap is parseRecord the plain way: json.Unmarshal into a map,
// then fieldString for each field.
func parseRecordMap(line []byte) *record {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil || m == nil {
		return nil
	}
	f := func(name string) string { return fieldString(m[name]) }
	rec := &record{
		cursor: f("__CURSOR"), raw: string(line), bootID: f("_BOOT_ID"), pid: f("_PID"), comm: f("_COMM"),
		message: f("MESSAGE"), messageID: f("MESSAGE_ID"), unit: f("UNIT"), jobID: f("JOB_ID"), jobType: f("JOB_TYPE"),
		unitResult: f("UNIT_RESULT"), invocation: f("INVOCATION_ID"), codeFunc: f("CODE_FUNC"),
	}
	ts, ok := parseMicros(f("_SOURCE_REALTIME_TIMESTAMP"))
	if !ok {
		ts, ok = parseMicros(f("__REALTIME_TIMESTAMP"))
	}
	if !ok {
		return nil
	}
	rec.ts = ts
	return rec
}
