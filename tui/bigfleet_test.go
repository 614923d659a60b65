package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
)

// bigFleet is a run over n synthetic hosts, 10 per batch after the canary:
// the first done hosts done (every 40th failed at its restart, the others
// ok with a stop time growing with their number), the next one running,
// the rest queued.
func bigFleet(n, done int) ([]HostRow, []fleet.Event) {
	rows := make([]HostRow, n)
	for i := range rows {
		rows[i] = HostRow{Name: fmt.Sprintf("node-%03d", i+1), Batch: (i + 9) / 10}
	}
	ev := []fleet.Event{{Time: at(0), Step: fleet.StepRun, Phase: fleet.PhaseStart, Batch: -1,
		Message: fmt.Sprintf("run %s: %d host(s) in %d batch(es), failure budget 20", runID, n, rows[n-1].Batch+1)}}
	for i := 0; i < done; i++ {
		r := rows[i]
		start := float64(i) * 0.5
		if i%40 == 39 {
			ev = append(ev, hostSteps(r.Name, r.Batch, start, 0.05, fleet.StepReload)...)
			ev = append(ev, fleet.Event{Time: at(start + 0.4), Host: r.Name, Step: fleet.StepRestart, Phase: fleet.PhaseFail, Batch: r.Batch,
				Err: errors.New("smart-proxy.service not healthy within 15s"), Message: "smart-proxy.service not healthy within 15s",
				Result: &fleet.HostResult{Host: r.Name, Batch: r.Batch, Status: fleet.StatusFailed, Step: fleet.StepRestart, Error: "smart-proxy.service not healthy within 15s"}})
			continue
		}
		ev = append(ev, hostSteps(r.Name, r.Batch, start, 0.05, fleet.StepVerify)...)
		ev = append(ev, fleet.Event{Time: at(start + 0.5), Host: r.Name, Step: fleet.StepRun, Phase: fleet.PhaseDone, Batch: r.Batch,
			Result: &fleet.HostResult{Host: r.Name, Batch: r.Batch, Status: fleet.StatusOK, Changed: 2, RunID: runID, Duration: 500 * time.Millisecond,
				Timings: timing(90*time.Second, time.Duration(i+1)*time.Millisecond, true)}})
	}
	r := rows[done]
	ev = append(ev, hostSteps(r.Name, r.Batch, float64(done)*0.5, 0.05, fleet.StepPush)...)
	return rows, ev
}

func bigModel(w, h int, keys ...string) Model {
	rows, ev := bigFleet(500, 300)
	m := sized(press(testModel(rows, nil, at(151), Controls{}), "enter"), w, h)
	return press(feed(m, ev), keys...)
}

func TestBigFleet(t *testing.T) {
	tests := []struct {
		name     string
		keys     []string
		selected string
		want     []string
	}{
		// Down 40 times: the list scrolls with the selection and says where.
		{"scrolled", strings.Split(strings.Repeat("j", 40), ""), "node-041", []string{"15–41 of 500", "▸ node-041"}},
		{"filter", []string{"/", "0", "4", "enter"}, "node-004", []string{"1–15 of 15 (500 hosts) · /04", "node-040", "node-304"}},
		{"filter typing", []string{"/", "4", "9", "9"}, "node-499", []string{"1–1 of 1 (500 hosts) · /499▏"}},
		{"filter cleared", []string{"/", "4", "esc"}, "node-004", []string{"1–27 of 500"}},
		{"failed only", []string{"e"}, "node-040", []string{"1–7 of 7 (500 hosts) · failed only", "node-280"}},
		// The longest stop after the fix first: node-299's 0.299 s (node-300
		// failed).
		{"by stop time", []string{"s"}, "node-300", []string{"· by stop time", "▸ node-300", "node-299"}},
		{"follow", []string{"w"}, "node-301", []string{"following", "▸ node-301"}},
		{"follow off by moving", []string{"w", "k"}, "node-300", []string{"follow off"}},
		{"nothing matches", []string{"/", "x", "enter"}, "node-001", []string{"no host matches · /x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := bigModel(120, 40, tt.keys...)
			v := m.Render()
			if m.Selected() != tt.selected {
				t.Errorf("selected %s, want %s", m.Selected(), tt.selected)
			}
			for _, w := range tt.want {
				if !strings.Contains(v, w) {
					t.Errorf("no %q in\n%s", w, v)
				}
			}
		})
	}
}

// TestBigFleetFrameTime bounds a frame of 500 hosts well above the 5 ms
// of BenchmarkView500, so that a slow machine does not fail it.
func TestBigFleetFrameTime(t *testing.T) {
	m := bigModel(120, 40)
	start := time.Now()
	const frames = 20
	for range frames {
		_ = m.Render()
	}
	if per := time.Since(start) / frames; per > 50*time.Millisecond {
		t.Errorf("a frame of 500 hosts took %s", per)
	}
}

// BenchmarkView500 renders a frame of a run over 500 hosts: the run
// screen and the timings screen, at 120×40.
func BenchmarkView500(b *testing.B) {
	for _, s := range []struct{ name, key string }{{"run", ""}, {"timings", "t"}, {"filtered", "e"}} {
		m := bigModel(120, 40)
		if s.key != "" {
			m = press(m, s.key)
		}
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				_ = m.Render()
			}
		})
	}
}

// TestTimingBlockLen: the timings screen draws only the blocks on screen,
// trusting their lengths; each must be what the block draws.
func TestTimingBlockLen(t *testing.T) {
	fr, fe := fleetEvents()
	br, be := bigFleet(60, 45)
	for _, f := range []struct {
		name string
		rows []HostRow
		ev   []fleet.Event
	}{{"fleet", fr, fe}, {"no before", rows, noBeforeEvents()}, {"big", br, be}, {"stopped", nil, nil}} {
		if f.rows == nil {
			f.rows, f.ev = stoppedEvents()
		}
		m := feed(press(testModel(f.rows, nil, at(100), Controls{}), "enter"), f.ev)
		for i := range m.run.Hosts {
			h := &m.run.Hosts[i]
			rows := h.TimingRows()
			if got, want := timingBlockLen(rows), len(m.timingBlock(h, rows, time.Second, 20)); got != want {
				t.Errorf("%s: %s: timingBlockLen %d, timingBlock draws %d", f.name, h.Name, got, want)
			}
		}
	}
}

// TestSelectedRowHighlightSpansTheRow: in colour, the selected row is one
// styled run, not cut short by its cells' own colours.
func TestSelectedRowHighlightSpansTheRow(t *testing.T) {
	fr, fe := fleetEvents()
	m := NewModel(Config{Title: "t", Hosts: fr, Steps: steps, Now: func() time.Time { return at(64) }})
	m = sized(feed(press(m, "enter"), fe), 80, 24)
	for _, l := range strings.Split(m.Render(), "\n") {
		if !strings.Contains(l, "▸ web-01") {
			continue
		}
		if n := strings.Count(l, "\x1b["); n != 2 {
			t.Errorf("the selected row has %d escape sequences, want one style and its reset: %q", n, l)
		}
		return
	}
	t.Error("no selected row")
}

// TestTitleBadgeColourByOutcome: the badge's word and background say how
// the run stands: green OK, red FAILED, yellow PAUSED or HALTED.
func TestTitleBadgeColourByOutcome(t *testing.T) {
	const green, red, yellow = "48;2;63;185;80", "48;2;248;81;73", "48;2;210;153;34"
	colour := func(r []HostRow, evs []fleet.Event, keys ...string) Model {
		m := NewModel(Config{Title: "t", Hosts: r, Steps: steps, Now: func() time.Time { return at(64) }})
		return press(feed(press(m, "enter"), evs), keys...)
	}
	okRows := []HostRow{{"h1", 0}}
	okEv := append(hostSteps("h1", 0, 0, 1, fleet.StepVerify), fleet.Event{Time: at(10), Host: "h1", Step: fleet.StepRun, Phase: fleet.PhaseDone,
		Result: &fleet.HostResult{Host: "h1", Status: fleet.StatusOK}}, fleet.Event{Time: at(10), Step: fleet.StepRun, Phase: fleet.PhaseDone, Batch: -1})
	sr, se := stoppedEvents()
	fr, fe := fleetEvents()
	for _, tt := range []struct {
		name, word, bg string
		m              Model
	}{
		{"ok", "OK", green, colour(okRows, okEv)},
		{"failed", "FAILED", red, colour(rows, finishedEvents())},
		{"stopped", "STOPPED", yellow, colour(sr, se)},
		{"paused", "PAUSED", yellow, colour(fr, fe, "p")},
	} {
		title := strings.Split(tt.m.Render(), "\n")[0]
		if !strings.Contains(title, tt.word) || !strings.Contains(title, tt.bg) {
			t.Errorf("%s: title %q, want %s on %s", tt.name, title, tt.word, tt.bg)
		}
	}
}
