package tui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/internal/golden"
)

// update runs one message through the model.
func update(m Model, msg tea.Msg) Model {
	nm, _ := m.Update(msg)
	return nm.(Model)
}

func feed(m Model, evs []fleet.Event) Model {
	for _, e := range evs {
		m = update(m, eventMsg{e: e})
	}
	return m
}

// keyMsg builds a key press from its name: "enter", "ctrl+c", "up", "q"...
func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("keyMsg: " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

func press(m Model, keys ...string) Model {
	for _, k := range keys {
		m = update(m, keyMsg(k))
	}
	return m
}

func sized(m Model, w, h int) Model { return update(m, tea.WindowSizeMsg{Width: w, Height: h}) }

func testModel(rows []HostRow, plan []fleet.Event, now time.Time, c Controls) Model {
	return NewModel(Config{
		Title:    "fleetfix rollout inventory.yaml (run " + runID + ")",
		Hosts:    rows,
		Steps:    steps,
		Plan:     plan,
		Controls: c,
		Policy:   testPolicy,
		NoColor:  true,
		Now:      func() time.Time { return now },
	})
}

// checkGolden compares a view with testdata/<name>.golden (rewritten with
// -update) and checks the frame: exactly h lines, none wider than w, no
// escape code.
func checkGolden(t *testing.T, name string, m Model, w, h int) {
	t.Helper()
	got := m.Render()
	lines := strings.Split(got, "\n")
	if len(lines) != h {
		t.Errorf("%s: %d lines, want %d", name, len(lines), h)
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			t.Errorf("%s: line %d is %d cells wide, want <= %d: %q", name, i+1, ansi.StringWidth(l), w, l)
		}
	}
	if strings.ContainsRune(got, '\x1b') {
		t.Errorf("%s: NO_COLOR view holds an escape code", name)
	}
	path := filepath.Join("testdata", name+".golden")
	if golden.Updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui/ -update to create it)", err)
	}
	if got+"\n" != string(want) {
		t.Errorf("%s differs from %s (go test ./tui/ -update rewrites it); got:\n%s", name, path, got)
	}
}

// goldenView is a TUI view under test: the model m shows at w×h.
type goldenView struct {
	name string
	w, h int
	m    func() Model
}

// runViews are the plan, a run under way and its ends.
func runViews() []goldenView {
	fleetRows, fleetEv := fleetEvents()
	return []goldenView{
		{"plan_80x24", 80, 24, func() Model { return testModel(rows, planEvents(), at(0), Controls{}) }},
		{"plan_scrolled_80x24", 80, 24, func() Model {
			return press(testModel(rows, planEvents(), at(0), Controls{}), "pgdown")
		}},
		{"running_80x24", 80, 24, func() Model {
			m := press(testModel(fleetRows, nil, at(64), Controls{}), "enter")
			return press(feed(m, fleetEv), "down", "down", "down")
		}},
		{"running_120x40", 120, 40, func() Model {
			m := press(testModel(fleetRows, nil, at(64), Controls{}), "enter")
			return press(feed(m, fleetEv), "down", "down", "down")
		}},
		{"paused_80x24", 80, 24, func() Model {
			m := press(testModel(fleetRows, nil, at(64), Controls{}), "enter")
			return press(feed(m, fleetEv), "p")
		}},
		{"failed_80x24", 80, 24, func() Model {
			m := press(testModel(rows, planEvents(), at(36), Controls{}), "enter")
			return press(feed(m, runEvents()), "down")
		}},
		{"failed_details_80x24", 80, 24, func() Model {
			m := press(testModel(rows, planEvents(), at(36), Controls{}), "enter")
			return press(feed(m, runEvents()), "down", "enter")
		}},
		{"confirm_rollback_80x24", 80, 24, func() Model {
			m := press(testModel(rows, planEvents(), at(36), Controls{}), "enter")
			return press(feed(m, runEvents()), "down", "r")
		}},
		{"finished_80x24", 80, 24, func() Model {
			m := press(testModel(rows, planEvents(), at(40), Controls{}), "enter")
			return feed(m, finishedEvents())
		}},
		{"timings_80x24", 80, 24, func() Model {
			m := press(testModel(fleetRows, nil, at(64), Controls{}), "enter")
			return press(feed(m, fleetEv), "t")
		}},
		{"timings_120x40", 120, 40, func() Model {
			m := press(testModel(fleetRows, nil, at(64), Controls{}), "enter")
			return press(feed(m, fleetEv), "t")
		}},
	}
}

// stopViews are failed plans, runs stopped, aborted or rolled back, and the timings without a before.
func stopViews() []goldenView {
	fleetRows, fleetEv := fleetEvents()
	return []goldenView{
		{"plan_failed_80x24", 80, 24, func() Model { return testModel(rows, planFailedEvents(), at(0), Controls{}) }},
		{"plan_failed_120x40", 120, 40, func() Model { return testModel(rows, planFailedEvents(), at(0), Controls{}) }},
		{"stopped_80x24", 80, 24, func() Model { return stoppedModel("down") }},
		{"stopped_120x40", 120, 40, func() Model { return stoppedModel("down") }},
		{"stopped_details_80x24", 80, 24, func() Model { return stoppedModel("down", "enter") }},
		{"rolled_back_80x24", 80, 24, rolledBackModel},
		{"rolled_back_120x40", 120, 40, rolledBackModel},
		{"restart_countdown_80x24", 80, 24, func() Model {
			rows, ev := stoppedEvents()
			m := press(testModel(rows, nil, at(41), Controls{}), "enter")
			return press(feed(m, ev[:len(ev)-7]), "down") // web-02 at its restart, 8 s in
		}},
		{"aborting_80x24", 80, 24, func() Model {
			m := press(testModel(fleetRows, nil, at(64), Controls{}), "enter")
			return press(feed(m, fleetEv), "ctrl+c")
		}},
		{"confirm_rollback_120x40", 120, 40, func() Model {
			m := press(testModel(rows, planEvents(), at(36), Controls{}), "enter")
			return press(feed(m, runEvents()), "down", "r")
		}},
		{"timings_no_before_80x24", 80, 24, func() Model {
			m := press(testModel(rows, nil, at(40), Controls{}), "enter")
			return press(feed(m, noBeforeEvents()), "t")
		}},
	}
}

// bigFleetViews are a fleet larger than the screen, a host's details and the help.
func bigFleetViews() []goldenView {
	fleetRows, fleetEv := fleetEvents()
	return []goldenView{
		{"big_fleet_80x24", 80, 24, func() Model { return bigModel(80, 24, strings.Split(strings.Repeat("j", 40), "")...) }},
		{"big_fleet_failed_by_stop_120x40", 120, 40, func() Model { return bigModel(120, 40, "e", "s") }},
		{"big_fleet_filter_80x24", 80, 24, func() Model { return bigModel(80, 24, "/", "0", "4") }},
		{"big_fleet_timings_80x24", 80, 24, func() Model { return bigModel(80, 24, "s", "t", "pgdown") }},
		{"details_reboot_80x24", 80, 24, func() Model {
			m := press(testModel(fleetRows, nil, at(64), Controls{}), "enter")
			return press(feed(m, fleetEv), "enter")
		}},
		// 0.2 s into the canary: nothing measured to base an ETA on.
		{"canary_running_80x24", 80, 24, func() Model {
			m := press(testModel(fleetRows, nil, at(0.2), Controls{}), "enter")
			return feed(m, fleetEv[:4])
		}},
		{"help_80x24", 80, 24, func() Model {
			m := press(testModel(rows, planEvents(), at(36), Controls{}), "enter")
			return press(feed(m, runEvents()), "?")
		}},
	}
}

func TestGoldenViews(t *testing.T) {
	tests := slices.Concat(runViews(), stopViews(), bigFleetViews())
	// The 80x24 views whose defect shows at 120x40 too get a twin there
	// (base_120x40); the ones left out are defects of 80 columns or 24
	// rows only (a cut reboot line, a plan that scrolls).
	twins := map[string]bool{"plan": true, "paused": true, "failed": true, "failed_details": true, "finished": true,
		"stopped_details": true, "restart_countdown": true, "aborting": true, "timings_no_before": true,
		"big_fleet": true, "big_fleet_filter": true, "big_fleet_timings": true, "canary_running": true, "help": true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGolden(t, tt.name, sized(tt.m(), tt.w, tt.h), tt.w, tt.h)
		})
		if base, ok := strings.CutSuffix(tt.name, "_80x24"); ok && twins[base] {
			t.Run(base+"_120x40", func(t *testing.T) {
				checkGolden(t, base+"_120x40", sized(tt.m(), 120, 40), 120, 40)
			})
		}
	}
}

// stoppedModel is the run of stoppedEvents after Ctrl-C twice, then keys.
func stoppedModel(keys ...string) Model {
	rows, ev := stoppedEvents()
	m := press(testModel(rows, nil, at(41), Controls{}), "enter")
	m = feed(m, ev[:len(ev)-6])
	m = press(m, "ctrl+c", "ctrl+c")
	return press(feed(m, ev[len(ev)-6:]), keys...)
}

// rolledBackModel: h1 (the canary) of the finished run rolled back from
// the TUI.
func rolledBackModel() Model {
	m := press(testModel(rows, planEvents(), at(50), Controls{}), "enter")
	m = press(feed(m, finishedEvents()), "r", "y")
	return feed(m, []fleet.Event{
		{Time: at(45), Host: "h1", Step: fleet.StepRollback, Phase: fleet.PhaseStart, Batch: -1},
		{Time: at(49), Host: "h1", Step: fleet.StepRollback, Phase: fleet.PhaseDone, Batch: -1, Message: "run " + runID + " rolled back: 2 file(s) restored or removed",
			Result: &fleet.HostResult{Host: "h1", Status: fleet.StatusRolledBack}},
	})
}
