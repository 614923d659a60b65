package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxJournalLine bounds one input line; journalctl prints fields over 4 KiB
// as null unless --all, so a real record is far smaller.
const maxJournalLine = 4 << 20

// record is one journal entry, reduced to the fields the parser uses. Its
// fields are substrings of raw unless their JSON needed decoding, so a record
// costs two allocations; the Shutdown clones what it keeps, not to pin whole
// lines.
type record struct {
	ts         time.Time
	cursor     string
	raw        string // the line, as a last tie-break for a total order
	bootID     string
	pid        string // "" when the field was not printed
	comm       string
	message    string
	messageID  string
	unit       string
	jobID      string
	jobType    string
	unitResult string
	invocation string
	codeFunc   string
}

// jobNum is a JOB_ID as a number: systemd allocates job ids in increasing
// order within a boot, so they order jobs without trusting clocks.
func (r *record) jobNum() (uint64, bool) {
	n, err := strconv.ParseUint(r.jobID, 10, 64)
	return n, err == nil
}

// readJournal decodes the lines, skipping (and counting) those that are not
// JSON objects or have no usable timestamp.
func readJournal(r io.Reader) ([]*record, int, error) {
	// A record is well under the default 4 KiB; a longer line is gathered
	// in line.
	br := bufio.NewReader(r)
	var (
		recs    []*record
		skipped int
		line    []byte
		tooLong bool
	)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > maxJournalLine {
			tooLong, line = true, line[:0]
		} else if !tooLong {
			line = append(line, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(chunk) > 0 || tooLong {
			if tooLong {
				skipped++
			} else if l := bytes.TrimSpace(line); len(l) > 0 {
				if rec := parseRecord(l); rec != nil {
					recs = append(recs, rec)
				} else {
					skipped++
				}
			}
			line, tooLong = line[:0], false
		}
		if err == io.EOF {
			return recs, skipped, nil
		}
		if err != nil {
			return nil, skipped, fmt.Errorf("reading journal: %w", err)
		}
	}
}

// parseRecord decodes one journalctl -o json line; nil when it is not a
// JSON object or has no valid timestamp.
func parseRecord(line []byte) *record {
	// What json.Unmarshal into a map accepts; the members are then read in
	// place, since decoding every record into a map (and each field again)
	// would be most of a scan's parse. Keys match exactly, as map keys do (a
	// struct would also take "message" for MESSAGE), and the last of a
	// repeated key wins.
	if !validObject(line) {
		return nil
	}
	rec := &record{raw: string(line)}
	var realtime, sourceRealtime string
	for key, val := range members(rec.raw) {
		switch key {
		case "__CURSOR":
			rec.cursor = jsonField(val)
		case "__REALTIME_TIMESTAMP":
			realtime = jsonField(val)
		case "_SOURCE_REALTIME_TIMESTAMP":
			sourceRealtime = jsonField(val)
		case "_BOOT_ID":
			rec.bootID = jsonField(val)
		case "_PID":
			rec.pid = jsonField(val)
		case "_COMM":
			rec.comm = jsonField(val)
		case "MESSAGE":
			rec.message = jsonField(val)
		case "MESSAGE_ID":
			rec.messageID = jsonField(val)
		case "UNIT":
			rec.unit = jsonField(val)
		case "JOB_ID":
			rec.jobID = jsonField(val)
		case "JOB_TYPE":
			rec.jobType = jsonField(val)
		case "UNIT_RESULT":
			rec.unitResult = jsonField(val)
		case "INVOCATION_ID":
			rec.invocation = jsonField(val)
		case "CODE_FUNC":
			rec.codeFunc = jsonField(val)
		}
	}
	// The sender's clock when it gave one (journald stamps arrival);
	// µs since the epoch.
	ts, ok := parseMicros(sourceRealtime)
	if !ok {
		ts, ok = parseMicros(realtime)
	}
	if !ok {
		return nil
	}
	rec.ts = ts
	return rec
}

// members yields the key (unquoted) and the value (as written) of each
// member of obj, which must be a valid JSON object.
func members(obj string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		i := skipSpace(obj, 1)
		for i < len(obj) && obj[i] == '"' {
			end := valueEnd(obj, i)
			key := obj[i+1 : end-1]
			if strings.Contains(key, `\`) {
				key = unquote(obj[i:end])
			}
			i = skipSpace(obj, skipSpace(obj, end)+1) // past the ':'
			end = valueEnd(obj, i)
			if !yield(key, obj[i:end]) {
				return
			}
			if i = skipSpace(obj, end); obj[i] == ',' {
				i = skipSpace(obj, i+1)
			}
		}
	}
}

// unquote decodes q, a valid JSON string.
func unquote(q string) string {
	var s string
	if json.Unmarshal([]byte(q), &s) != nil {
		return "" // not a JSON string: no value
	}
	return s
}

// skipSpace skips JSON's whitespace from s[i].
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// valueEnd returns where the JSON value that starts at s[i] ends, in valid
// JSON.
func valueEnd(s string, i int) int {
	switch s[i] {
	case '"':
		for i++; s[i] != '"'; i++ {
			if s[i] == '\\' {
				i++
			}
		}
		return i + 1
	case '[', '{':
		depth := 0
		for ; ; i++ {
			switch s[i] {
			case '"':
				i = valueEnd(s, i) - 1
			case '[', '{':
				depth++
			case ']', '}':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	// A number, true, false or null: in an object, a delimiter follows.
	return i + strings.IndexAny(s[i:], ",]} \t\r\n")
}

// jsonField is fieldString for a value from members: a string that needs no
// unescaping (the usual case) is taken as is, without a copy.
func jsonField(val string) string {
	if val[0] == '"' && !strings.Contains(val, `\`) && utf8.ValidString(val) {
		return val[1 : len(val)-1]
	}
	return fieldString(json.RawMessage(val))
}

// maxMicros is the end of year 9999, the last time encoding/json can print.
const maxMicros = 253402300799999999

func parseMicros(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > maxMicros {
		return time.Time{}, false
	}
	return time.UnixMicro(n).UTC(), true
}

// fieldString decodes a journalctl -o json value: a string; an array of
// byte values for data that is not valid UTF-8 (or binary); an array of
// such values when the field occurs more than once in the entry (the first
// is taken); null for a field too large to print. Anything else is "".
func fieldString(raw json.RawMessage) string {
	if s, ok := scalarField(raw); ok {
		return s
	}
	var vals []json.RawMessage
	if json.Unmarshal(raw, &vals) == nil && len(vals) > 0 {
		if s, ok := scalarField(vals[0]); ok {
			return s
		}
	}
	return ""
}

// scalarField decodes one value of a field: a JSON string, or an array of
// numbers 0-255 (the bytes).
func scalarField(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, true
		}
	case '[':
		var nums []int
		if json.Unmarshal(raw, &nums) != nil {
			return "", false
		}
		b := make([]byte, len(nums))
		for i, n := range nums {
			if n < 0 || n > 255 {
				return "", false
			}
			b[i] = byte(n)
		}
		return string(b), true
	}
	return "", false
}
