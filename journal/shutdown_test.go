package journal

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/internal/golden"
)

// The captures in testdata were taken on lab hosts (systemd 252; trixie-*
// on systemd 257) with fleet.ShutdownQuery's script; see testdata/README.md.

const journalDir = "testdata"

func readJournalFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(journalDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parseJournalFile(t testing.TB, name string) (*Shutdown, error) {
	t.Helper()
	return ParseShutdown(bytes.NewReader(readJournalFile(t, name)))
}

func mustParseJournal(t testing.TB, name string) *Shutdown {
	t.Helper()
	s, err := parseJournalFile(t, name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

// TestJournalGolden: each capture, parsed, rendered as indented JSON, is
// its .golden.json (an error is rendered as {"error": ...}).
func TestJournalGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(journalDir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in %s: %v", journalDir, err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".jsonl"), func(t *testing.T) {
			var v any
			s, err := parseJournalFile(t, name)
			if err != nil {
				v = map[string]string{"error": err.Error()}
			} else {
				v = s
			}
			checkGolden(t, strings.TrimSuffix(f, ".jsonl")+".golden.json", v)
		})
	}
}

// checkGolden compares v, as indented JSON, with the golden file; -update
// rewrites it instead.
func checkGolden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if golden.Updating() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./journal/ -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("differs from %s:\n%s", filepath.Base(path), lineDiffJournal(string(want), string(got)))
	}
}

func lineDiffJournal(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want " + wl + "\n  got  " + gl + "\n")
		}
	}
	return b.String()
}

// shortLine is one line of journalctl -o short-unix: "SECONDS.MICROS host
// ident[pid]: message".
type shortLine struct {
	us  int64
	msg string
}

func readShortUnix(t *testing.T, name string) []shortLine {
	t.Helper()
	var out []shortLine
	for _, l := range strings.Split(strings.TrimSpace(string(readJournalFile(t, name))), "\n") {
		ts, rest, ok := strings.Cut(l, " ")
		sec, frac, ok2 := strings.Cut(ts, ".")
		_, rest, ok3 := strings.Cut(rest, ": ")
		if !ok || !ok2 || !ok3 || len(frac) != 6 {
			t.Fatalf("%s: not a short-unix line: %q", name, l)
		}
		s, err1 := strconv.ParseInt(sec, 10, 64)
		f, err2 := strconv.ParseInt(frac, 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: bad timestamp in %q", name, l)
		}
		out = append(out, shortLine{us: s*1e6 + f, msg: rest})
	}
	return out
}

// lastStop finds, in the short-unix lines, the last "Stopping UNIT" and the
// "Stopped UNIT" after it.
func lastStop(lines []shortLine, unit string) (start, end int64, ok bool) {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i].msg, "Stopping "+unit+" ") {
			for _, l := range lines[i:] {
				if strings.HasPrefix(l.msg, "Stopped "+unit+" ") {
					return lines[i].us, l.us, true
				}
			}
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// printedAt reports whether a line at µs us is about unit (or is a binary
// MESSAGE, which short-unix prints as "[NB blob data]").
func printedAt(lines []shortLine, us int64, unit string) bool {
	return slices.ContainsFunc(lines, func(l shortLine) bool {
		return l.us == us && (strings.Contains(l.msg, " "+unit+" ") || strings.HasSuffix(l.msg, " blob data]"))
	})
}

// TestJournalDurationsMatchShortUnix: the times are those journalctl prints
// for the same records, to the microsecond.
func TestJournalDurationsMatchShortUnix(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(journalDir, "*.short-unix.txt"))
	if len(files) < 5 {
		t.Fatalf("only %d short-unix captures", len(files))
	}
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".short-unix.txt")
		t.Run(base, func(t *testing.T) {
			s := mustParseJournal(t, base+".jsonl")
			lines := readShortUnix(t, filepath.Base(f))
			if got, want := s.End.UnixMicro(), lines[len(lines)-1].us; got != want {
				t.Errorf("End %d µs, the last record is at %d µs", got, want)
			}
			if len(s.Units) == 0 {
				t.Fatal("no units")
			}
			for _, u := range s.Units {
				if u.Duration != u.End.Sub(u.Start) {
					t.Errorf("%s: Duration %v != End-Start %v", u.Unit, u.Duration, u.End.Sub(u.Start))
				}
				if !printedAt(lines, u.Start.UnixMicro(), u.Unit) || !printedAt(lines, u.End.UnixMicro(), u.Unit) {
					t.Errorf("%s: no record of it printed at %d or %d", u.Unit, u.Start.UnixMicro(), u.End.UnixMicro())
				}
			}
			u, ok := s.Unit("smart-proxy.service")
			if !ok {
				return // stopped by hand before the shutdown
			}
			start, end, ok := lastStop(lines, "smart-proxy.service")
			if !ok {
				t.Fatal("no Stopping/Stopped smart-proxy.service lines")
			}
			if u.Start.UnixMicro() != start || u.End.UnixMicro() != end || u.Duration != time.Duration(end-start)*time.Microsecond {
				t.Errorf("smart-proxy %v..%v (%v), journalctl prints %d..%d (%v)", u.Start.UnixMicro(), u.End.UnixMicro(), u.Duration, start, end, time.Duration(end-start)*time.Microsecond)
			}
			t.Logf("smart-proxy.service stopped in %v (killed %v, %s); shutdown %v, %d units", u.Duration, u.Killed, u.Result, s.Duration, len(s.Units))
		})
	}
}

const proxy = "smart-proxy.service"

func mustUnit(t *testing.T, s *Shutdown, name string) UnitStop {
	t.Helper()
	u, ok := s.Unit(name)
	if !ok {
		t.Fatalf("%s not in the shutdown", name)
	}
	return u
}

func checkKilled(t *testing.T, u UnitStop) {
	t.Helper()
	if !u.Killed || u.Result != "timeout" || u.Unfinished {
		t.Errorf("%s: killed %v, result %q, unfinished %v; want a SIGKILL after the timeout", u.Unit, u.Killed, u.Result, u.Unfinished)
	}
	// TimeoutStopSec=5s on the lab; the timer fires a little late.
	if u.Duration < 5*time.Second || u.Duration > 6*time.Second {
		t.Errorf("%s stopped in %v, want 5-6 s", u.Unit, u.Duration)
	}
}

func checkClean(t *testing.T, u UnitStop) {
	t.Helper()
	if u.Killed || u.Result != "clean" || u.Unfinished {
		t.Errorf("%s: killed %v, result %q, unfinished %v; want clean", u.Unit, u.Killed, u.Result, u.Unfinished)
	}
	if u.Duration <= 0 || u.Duration >= time.Second {
		t.Errorf("%s stopped in %v, want < 1 s", u.Unit, u.Duration)
	}
}

func checkSorted(t *testing.T, s *Shutdown) {
	t.Helper()
	if !slices.IsSortedFunc(s.Units, func(a, b UnitStop) int {
		if a.Duration != b.Duration {
			return int(b.Duration - a.Duration)
		}
		return strings.Compare(a.Unit, b.Unit)
	}) {
		t.Error("units not sorted slowest first")
	}
}

// logindMark is when "System is rebooting." was logged, read from the
// capture independently of the parser.
func logindMark(t *testing.T, name string) time.Time {
	t.Helper()
	for _, l := range readShortUnix(t, strings.TrimSuffix(name, ".jsonl")+".short-unix.txt") {
		if l.msg == "System is rebooting." {
			return time.UnixMicro(l.us).UTC()
		}
	}
	t.Fatalf("%s: no logind mark", name)
	return time.Time{}
}

// TestShutdownScenarios covers reboots through logind: which unit stops
// belong to the shutdown, and how each stopped.
func TestShutdownScenarios(t *testing.T) {
	t.Run("buggy build is SIGKILLed after the timeout", func(t *testing.T) {
		s := mustParseJournal(t, "buggy-reboot.jsonl")
		checkKilled(t, mustUnit(t, s, proxy))
		checkClean(t, mustUnit(t, s, "smart-upstream.service"))
		if sl := s.Slowest(1); len(sl) != 1 || sl[0].Unit != proxy {
			t.Errorf("Slowest(1) = %+v", sl)
		}
		checkSorted(t, s)
		// The first stop job after logind's mark: "Stopped run-r….service"
		// (the transient unit that ran systemctl reboot, done at once).
		if got := s.Start.UnixMicro(); got != 1795557477444215 {
			t.Errorf("Start %d", got)
		}
		if mark := logindMark(t, "buggy-reboot.jsonl"); s.Start.Before(mark) || s.Start.Sub(mark) > 50*time.Millisecond {
			t.Errorf("Start %v, logind's mark %v", s.Start, mark)
		}
		if s.Duration != s.End.Sub(s.Start) || s.Duration < 5*time.Second {
			t.Errorf("shutdown took %v", s.Duration)
		}
		if s.BootID != "59aaae3b88bc4d1ca8e01186275dbff2" {
			t.Errorf("boot %s", s.BootID)
		}
	})
	t.Run("trixie: buggy build is SIGKILLed after the lab's 3 s", func(t *testing.T) {
		s := mustParseJournal(t, "trixie-buggy-reboot.jsonl")
		u := mustUnit(t, s, proxy)
		if !u.Killed || u.Result != "timeout" || u.Duration < 3*time.Second || u.Duration > 4*time.Second {
			t.Errorf("%s: %+v, want SIGKILLed after 3-4 s", proxy, u)
		}
		checkClean(t, mustUnit(t, s, "smart-upstream.service"))
		checkSorted(t, s)
	})
	t.Run("trixie: fixed build stops clean", func(t *testing.T) {
		s := mustParseJournal(t, "trixie-fixed-reboot.jsonl")
		checkClean(t, mustUnit(t, s, proxy))
		// A socket's stop job logs only its end ("Closed ssh.socket"), no
		// "Stopping" record: nothing to pair, so no stop time of its own.
		if u, ok := s.Unit("ssh.socket"); ok {
			t.Errorf("ssh.socket paired: %+v", u)
		}
	})
	t.Run("fixed build stops clean", func(t *testing.T) {
		s := mustParseJournal(t, "fixed-reboot.jsonl")
		checkClean(t, mustUnit(t, s, proxy))
		if s.Duration > time.Second {
			t.Errorf("shutdown took %v", s.Duration)
		}
	})
	t.Run("a restart's stop is not the shutdown's", func(t *testing.T) {
		// The buggy build was SIGKILLed by `systemctl restart` (its
		// "Stopping" record says JOB_TYPE=stop), then the fixed build
		// stopped clean at the shutdown.
		s := mustParseJournal(t, "restart-then-reboot.jsonl")
		u := mustUnit(t, s, proxy)
		checkClean(t, u)
		if u.Start.Before(logindMark(t, "restart-then-reboot.jsonl")) {
			t.Errorf("reported the restart's stop at %v", u.Start)
		}
		// esc-demo.service has control characters in its Description, so
		// its MESSAGEs are byte arrays.
		checkClean(t, mustUnit(t, s, "esc-demo.service"))
	})
}

// TestShutdownAfterStopsByHand covers a unit an operator stopped before the
// reboot: which of its stops is the shutdown's.
func TestShutdownAfterStopsByHand(t *testing.T) {
	t.Run("unit stopped twice reports the shutdown's stop", func(t *testing.T) {
		s := mustParseJournal(t, "stopped-twice.jsonl")
		u := mustUnit(t, s, proxy)
		checkClean(t, u)
		if u.Start.Before(logindMark(t, "stopped-twice.jsonl")) {
			t.Errorf("reported the earlier stop at %v", u.Start)
		}
	})
	t.Run("unit stopped by hand long before is not in the shutdown", func(t *testing.T) {
		s := mustParseJournal(t, "stopped-by-hand.jsonl")
		if u, ok := s.Unit(proxy); ok {
			t.Errorf("smart-proxy stopped by hand 9 s before the reboot is reported: %+v", u)
		}
		checkClean(t, mustUnit(t, s, "smart-upstream.service"))
		checkClean(t, mustUnit(t, s, "esc-demo.service"))
		if mark := logindMark(t, "stopped-by-hand.jsonl"); s.Start.Before(mark) {
			t.Errorf("Start %v before logind's mark %v", s.Start, mark)
		}
	})
	t.Run("stop by hand still running when the reboot came", func(t *testing.T) {
		// systemctl stop --no-block, reboot 1.1 s later: the shutdown
		// waited for that stop, which keeps its own (lower) JOB_ID.
		s := mustParseJournal(t, "stop-during-reboot.jsonl")
		u := mustUnit(t, s, proxy)
		checkKilled(t, u)
		if mark := logindMark(t, "stop-during-reboot.jsonl"); !u.Start.Before(mark) {
			t.Errorf("the stop began at %v, after logind's mark %v", u.Start, mark)
		}
		if !s.Start.Equal(u.Start) {
			t.Errorf("Start %v, want the straddling stop's %v", s.Start, u.Start)
		}
	})
}

// TestShutdownUnusualJournals covers shutdowns that logind did not start,
// and journals out of order, cut short or damaged.
func TestShutdownUnusualJournals(t *testing.T) {
	t.Run("reboot without logind (SIGRTMIN+5 to PID 1)", func(t *testing.T) {
		s := mustParseJournal(t, "sigrtmin5-no-logind.jsonl")
		checkKilled(t, mustUnit(t, s, proxy))
		// "Removed slice system-getty.slice", the first stop job numbered
		// above reboot.target's start job.
		if got := s.Start.UnixMicro(); got != 1795557899871362 {
			t.Errorf("Start %d", got)
		}
	})
	t.Run("systemctl start reboot.target: only job numbers tell", func(t *testing.T) {
		s := mustParseJournal(t, "start-reboot-target.jsonl")
		checkClean(t, mustUnit(t, s, proxy))
		// "Removed slice system-getty.slice", the first stop job.
		if got := s.Start.UnixMicro(); got != 1795559111435194 {
			t.Errorf("Start %d", got)
		}
	})
	t.Run("halt by nspawn (SIGRTMIN+3): no halt.target record", func(t *testing.T) {
		s := mustParseJournal(t, "halt-by-nspawn.jsonl")
		checkKilled(t, mustUnit(t, s, proxy))
		if got := s.Start.UnixMicro(); got != 1795558817470732 {
			t.Errorf("Start %d", got)
		}
	})
	t.Run("journal cut during a shutdown by signal", func(t *testing.T) {
		// Only PID 1's "Activating special unit reboot.target..." tells
		// this is a shutdown: the target's records would come at the end.
		s := mustParseJournal(t, "cut-mid-shutdown-no-logind.jsonl")
		u := mustUnit(t, s, proxy)
		if !u.Unfinished || u.Killed || u.Result != "unknown" {
			t.Errorf("%+v", u)
		}
		if got := s.Start.UnixMicro(); got != 1795557899871362 {
			t.Errorf("Start %d", got)
		}
	})
	t.Run("out of order gives the same result", func(t *testing.T) {
		a, b := mustParseJournal(t, "buggy-reboot.jsonl"), mustParseJournal(t, "shuffled.jsonl")
		if !reflect.DeepEqual(a, b) {
			t.Errorf("shuffled capture parses differently:\n%+v\n%+v", a, b)
		}
	})
	t.Run("journal cut while a unit was stopping", func(t *testing.T) {
		s := mustParseJournal(t, "cut-mid-shutdown.jsonl")
		u := mustUnit(t, s, proxy)
		if !u.Unfinished || u.Killed || u.Result != "unknown" || !u.End.Equal(s.End) {
			t.Errorf("%+v, want unfinished until the last record %v", u, s.End)
		}
	})
	t.Run("damaged lines are skipped and counted", func(t *testing.T) {
		want := mustParseJournal(t, "fixed-reboot.jsonl")
		got := mustParseJournal(t, "damaged.jsonl")
		if got.Skipped != 5 {
			t.Errorf("Skipped %d, want 5", got.Skipped)
		}
		got.Skipped = 0
		if !reflect.DeepEqual(got, want) {
			t.Errorf("damaged capture parses differently:\n%+v\n%+v", got, want)
		}
	})
}

func TestShutdownNone(t *testing.T) {
	for _, name := range []string{"crash-after-stop.jsonl", "running-boot.jsonl"} {
		if s, err := parseJournalFile(t, name); !errors.Is(err, ErrNoShutdown) || s != nil {
			t.Errorf("%s: %v, %v; want ErrNoShutdown", name, s, err)
		}
	}
	for _, in := range []string{"", "\n\n", "not json\n{\"MESSAGE\":\n", `{"MESSAGE":"no time"}`} {
		if s, err := ParseShutdown(strings.NewReader(in)); !errors.Is(err, ErrNoShutdown) || s != nil {
			t.Errorf("%q: %v, %v; want ErrNoShutdown", in, s, err)
		}
	}
	// Two boots at once is a caller's mistake, not a missing shutdown.
	two := append(readJournalFile(t, "buggy-reboot.jsonl"), readJournalFile(t, "fixed-reboot.jsonl")...)
	if _, err := ParseShutdown(bytes.NewReader(two)); err == nil || errors.Is(err, ErrNoShutdown) {
		t.Errorf("two boots: %v", err)
	}
}

// TestJournalOrderIndependent shuffles every capture many times.
func TestJournalOrderIndependent(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(journalDir, "*.jsonl"))
	for _, f := range files {
		data := readJournalFile(t, filepath.Base(f))
		want, wantErr := ParseShutdown(bytes.NewReader(data))
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		rng := rand.New(rand.NewPCG(1, uint64(len(data))))
		for i := range 20 {
			if i == 0 {
				slices.Reverse(lines)
			} else {
				rng.Shuffle(len(lines), func(a, b int) { lines[a], lines[b] = lines[b], lines[a] })
			}
			got, err := ParseShutdown(strings.NewReader(strings.Join(lines, "\n") + "\n"))
			if !reflect.DeepEqual(got, want) || (err == nil) != (wantErr == nil) {
				t.Fatalf("%s, permutation %d: %+v, %v; want %+v, %v", filepath.Base(f), i, got, err, want, wantErr)
			}
		}
	}
}

// TestJournalFilterKeepsWhatParserNeeds: the whole boot's journal (every
// record, every field) parses the same as what ShutdownQuery's filter keeps.
func TestJournalFilterKeepsWhatParserNeeds(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(journalDir, "*.full.json.gz"))
	if len(files) == 0 {
		t.Fatal("no full journal captures")
	}
	for _, f := range files {
		zr, err := gzip.NewReader(bytes.NewReader(readJournalFile(t, filepath.Base(f))))
		if err != nil {
			t.Fatal(err)
		}
		full, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseShutdown(bytes.NewReader(full))
		if err != nil {
			t.Fatal(err)
		}
		want := mustParseJournal(t, strings.TrimSuffix(filepath.Base(f), ".full.json.gz")+".jsonl")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s parses differently from the filtered capture:\n%+v\n%+v", filepath.Base(f), got, want)
		}
	}
}

func TestJournalFieldValues(t *testing.T) {
	for in, want := range map[string]string{
		`"Stopping x..."`:              "Stopping x...",
		`[83,116,111,112,27,255]`:      "Stop\x1b\xff",
		`["first","second"]`:           "first",
		`[[104,105],"second"]`:         "hi",
		`null`:                         "",
		`12`:                           "",
		`{"a":1}`:                      "",
		`[256]`:                        "",
		`[]`:                           "",
		`"caf\u00e9"`:                  "café",
		` "spaced" `:                   "spaced",
		`[["nested"],"x"]`:             "",
		`[83,116,111,112,-1]`:          "",
		`"\u0000zero"`:                 "\x00zero",
		`[1.5]`:                        "",
		`"unterminated`:                "",
		`[104,105,1e2]`:                "",
		`[[[104]]]`:                    "",
		`["a",[98]]`:                   "a",
		`[null,"b"]`:                   "",
		`true`:                         "",
		`"\ud800"`:                     "\ufffd",
		`[83,116,111,112,112,101,100]`: "Stopped",
	} {
		if got := fieldString(json.RawMessage(in)); got != want {
			t.Errorf("fieldString(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestShutdownUnitAndSlowest(t *testing.T) {
	s := mustParseJournal(t, "buggy-reboot.jsonl")
	if _, ok := s.Unit("no-such.service"); ok {
		t.Error("found a unit that is not there")
	}
	if got := s.Slowest(0); len(got) != 0 {
		t.Errorf("Slowest(0) = %v", got)
	}
	if got := s.Slowest(-1); len(got) != 0 {
		t.Errorf("Slowest(-1) = %v", got)
	}
	if got := s.Slowest(1000); !reflect.DeepEqual(got, s.Units) {
		t.Errorf("Slowest(1000) is not all %d units", len(s.Units))
	}
	top := s.Slowest(3)
	top[0].Unit = "changed"
	if s.Units[0].Unit == "changed" {
		t.Error("Slowest returns the shutdown's own slice")
	}
}

// jrec renders one synthetic journal record; µs is relative to a fixed
// epoch second.
func jrec(us int64, kv ...string) string {
	m := map[string]string{"__REALTIME_TIMESTAMP": strconv.FormatInt(1700000000000000+us, 10), "_BOOT_ID": "b0", "_PID": "1"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	out, _ := json.Marshal(m)
	return string(out) + "\n"
}

func stopping(us int64, unit, job, inv string) string {
	return jrec(us, "MESSAGE", "Stopping "+unit+"...", "MESSAGE_ID", msgJobStart, "UNIT", unit, "JOB_ID", job, "JOB_TYPE", "stop", "INVOCATION_ID", inv)
}

func stopped(us int64, unit, job, typ, inv string) string {
	return jrec(us, "MESSAGE", "Stopped "+unit+".", "MESSAGE_ID", msgJobDone, "UNIT", unit, "JOB_ID", job, "JOB_TYPE", typ, "INVOCATION_ID", inv)
}

// TestShutdownRules covers rules the lab captures do not reach.
func TestShutdownRules(t *testing.T) {
	in := jrec(0, "MESSAGE", "System is powering down.", "MESSAGE_ID", msgLogindShutdown, "_PID", "40", "_COMM", "systemd-logind") +
		// A restart issued during the shutdown: not a stop.
		stopping(100, "r.service", "300", "i1") + stopped(200, "r.service", "300", "restart", "i1") +
		// A failing stop, its records without INVOCATION_ID.
		stopping(300, "f.service", "301", "") +
		jrec(400, "MESSAGE", "f.service: Failed with result 'exit-code'.", "MESSAGE_ID", msgUnitFailed, "UNIT", "f.service", "UNIT_RESULT", "exit-code") +
		stopped(500, "f.service", "301", "stop", "") +
		// A mount that timed out unmounting: killed, and its result record
		// lacks UNIT_RESULT.
		jrec(600, "MESSAGE", "Unmounting data.mount...", "MESSAGE_ID", msgJobStart, "UNIT", "data.mount", "JOB_ID", "302", "JOB_TYPE", "stop", "INVOCATION_ID", "i3") +
		jrec(90600, "MESSAGE", "data.mount: Unmounting timed out. Killing.", "UNIT", "data.mount", "INVOCATION_ID", "i3", "PRIORITY", "4") +
		jrec(90700, "MESSAGE", "data.mount: Failed with result 'timeout'.", "MESSAGE_ID", msgUnitFailed, "UNIT", "data.mount", "INVOCATION_ID", "i3") +
		jrec(90800, "MESSAGE", "Unmounted data.mount.", "MESSAGE_ID", msgJobDone, "UNIT", "data.mount", "JOB_ID", "302", "JOB_TYPE", "stop", "INVOCATION_ID", "i3") +
		// A user manager's stop, with its own job numbers: not PID 1's.
		jrec(700, "MESSAGE", "Stopping u.service...", "MESSAGE_ID", msgJobStart, "UNIT", "u.service", "JOB_ID", "5", "JOB_TYPE", "stop", "_PID", "77") +
		jrec(800, "MESSAGE", "Stopped u.service.", "MESSAGE_ID", msgJobDone, "UNIT", "u.service", "JOB_ID", "5", "JOB_TYPE", "stop", "_PID", "77") +
		// A stop whose "Deactivated" belongs to another invocation, and a
		// SIGKILL without a timeout (KillMode=mixed leftovers): clean-less,
		// not killed.
		stopping(900, "m.service", "303", "i4") +
		jrec(950, "MESSAGE", "m.service: Deactivated successfully.", "MESSAGE_ID", msgUnitDeactivated, "UNIT", "m.service", "INVOCATION_ID", "other") +
		jrec(960, "MESSAGE", "m.service: Killing process 9 (x) with signal SIGKILL.", "UNIT", "m.service", "INVOCATION_ID", "i4") +
		stopped(1000, "m.service", "303", "stop", "i4") +
		jrec(100000, "MESSAGE", "Journal stopped", "_PID", "18")
	s, err := ParseShutdown(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Unit("r.service"); ok {
		t.Error("a restart counted as a stop")
	}
	if _, ok := s.Unit("u.service"); ok {
		t.Error("a user manager's stop counted")
	}
	if u := mustUnit(t, s, "f.service"); u.Result != "failed:exit-code" || u.Killed || u.Duration != 200*time.Microsecond {
		t.Errorf("f.service: %+v", u)
	}
	if u := mustUnit(t, s, "data.mount"); u.Result != "timeout" || !u.Killed || u.Duration != 90200*time.Microsecond {
		t.Errorf("data.mount: %+v", u)
	}
	if u := mustUnit(t, s, "m.service"); u.Result != "unknown" || u.Killed {
		t.Errorf("m.service: %+v", u)
	}
	if len(s.Units) != 3 || s.Units[0].Unit != "data.mount" {
		t.Errorf("units %+v", s.Units)
	}
	// The restart's "Stopping" is the first job record after the mark, but
	// not a stop of the shutdown.
	if got := s.Start.UnixMicro() - 1700000000000000; got != 300 {
		t.Errorf("Start at %d µs, want 300", got)
	}
	if got := s.End.UnixMicro() - 1700000000000000; got != 100000 {
		t.Errorf("End at %d µs", got)
	}
}

// TestRebootTimeline: the reboot asked for -> sshd stopped -> the boot's
// last record, against what journalctl prints for the same records (the
// captures' short-unix lines, read independently of the parser).
func TestRebootTimeline(t *testing.T) {
	tests := []struct {
		name string
		// asked is the line that marks the request: logind's, PID 1's
		// special unit, or "" for the shutdown's first stop job.
		asked string
		// askedToSSHD is the figure the reboot reports as "sshd stopped".
		askedToSSHD time.Duration
	}{
		{"buggy-reboot", "System is rebooting.", 11918 * time.Microsecond},
		{"fixed-reboot", "System is rebooting.", 8104 * time.Microsecond},
		{"stop-during-reboot", "System is rebooting.", 7613 * time.Microsecond},
		{"sigrtmin5-no-logind", "Activating special unit reboot.target...", 6329 * time.Microsecond},
		{"start-reboot-target", "", 5838 * time.Microsecond},
		// trixie (systemd 257), sshd started by ssh.socket: ssh.service
		// stops at once, the socket closes seconds later.
		{"trixie-buggy-reboot", "System is rebooting.", 14398 * time.Microsecond},
		{"trixie-fixed-reboot", "System is rebooting.", 21778 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParseJournal(t, tt.name+".jsonl")
			lines := readShortUnix(t, tt.name+".short-unix.txt")
			var asked, sshd int64
			for _, l := range lines {
				if tt.asked != "" && strings.HasSuffix(l.msg, tt.asked) {
					asked = l.us
				}
				if strings.HasPrefix(l.msg, "Stopped ssh.service") {
					sshd = l.us
				}
			}
			if tt.asked == "" {
				asked = s.Start.UnixMicro()
			}
			if asked == 0 || sshd == 0 {
				t.Fatalf("capture has no request (%d) or no sshd stop (%d)", asked, sshd)
			}
			if s.Asked.UnixMicro() != asked || s.SSHDStopped.UnixMicro() != sshd {
				t.Errorf("asked %d, sshd stopped %d; journalctl prints %d, %d", s.Asked.UnixMicro(), s.SSHDStopped.UnixMicro(), asked, sshd)
			}
			if d := s.SSHDStopped.Sub(s.Asked); d != tt.askedToSSHD {
				t.Errorf("sshd stopped %v after the request, want %v", d, tt.askedToSSHD)
			}
			t.Logf("sshd stopped %v after the request; the boot ended %v after it", s.SSHDStopped.Sub(s.Asked), s.End.Sub(s.Asked))
		})
	}
}
