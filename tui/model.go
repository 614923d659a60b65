// Package tui is fleetfix's interactive terminal UI: it shows the plan, then
// the rollout live (a row per host, a detail log, stop timings), and sends
// the operator's commands (start, pause, abort, stop, roll back a host) to
// the engine through Controls. The view consumes fleet.Events only; Session
// is the interactive rollout behind the Controls (the run, its halt, the
// rollbacks started from the TUI) and Plan the dry run shown first.
package tui

import (
	"os"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"

	"github.com/fleetfix/fleetfix/fleet"
)

// Controls are what the TUI can ask of the engine; the command supplies the
// closures. A nil closure is not called.
type Controls struct {
	// Start starts the rollout (the operator confirmed the plan); it must
	// not block.
	Start func()
	// Pause holds (true) or releases (false) hosts not yet started.
	Pause func(paused bool)
	// Abort is the graceful stop: no new host starts, hosts in flight stop
	// at their next step boundary.
	Abort func()
	// Stop cancels the run now (a second Ctrl-C).
	Stop func()
	// Rollback rolls one host back, asynchronously; its events arrive on
	// the same stream. runID is the run to undo ("" when the TUI does not
	// know it: the command's own run).
	Rollback func(host, runID string)
}

// Config configures the TUI.
type Config struct {
	// Title heads every screen, e.g. "fleetfix rollout inventory.yaml (run
	// 20261124_213045)".
	Title string
	// Hosts are the run's hosts in batch order (0 = canary).
	Hosts []HostRow
	// Plan holds the events of the dry run: each host's planned changes.
	Plan []fleet.Event
	// Events is the live stream (see NewQueue); closed when no more events
	// will come.
	Events <-chan fleet.Event
	// Controls reach the engine.
	Controls Controls
	// Steps are the steps of a host's rollout, as fleet.Steps lists them.
	Steps []fleet.Step
	// Policy is the rollout's policy (PolicyOf).
	Policy Policy
	// NoColor renders without colors or any other escape code; the NO_COLOR
	// environment variable sets it too.
	NoColor bool
	// Now is the clock (default time.Now); tests fix it.
	Now func() time.Time
}

type screen int

const (
	screenPlan screen = iota
	screenRun
	screenTimings
	screenHelp
)

type confirmKind int

const (
	confirmNone confirmKind = iota
	confirmAbort
	confirmRollback
	confirmQuit
)

// Messages.
type (
	eventMsg struct {
		e   fleet.Event
		seq uint64 // the reader's number; 0 when not from a reader
	}
	streamClosedMsg struct{}
	tickMsg         time.Time
)

// Model is the TUI's tea.Model.
type Model struct {
	// interrupted: left with Ctrl-C before the run started.
	interrupted bool
	cfg         Config
	now         func() time.Time
	run         *RunState
	rd          *reader // nil without an event stream
	keys        keyMap
	help        help.Model
	bar         progress.Model
	st          styles

	width, height int
	screen        screen
	back          screen // where esc/? return to from help
	selected      int
	expanded      bool // enter: the selected host's details fill the screen
	scroll        int  // scroll offset of the plan, timings, help and details

	started, paused, aborting, stopping bool
	closed, quitting                    bool

	confirm     confirmKind
	confirmHost string
	flash       string
	list        listView
}

// NewModel builds the model; Run runs it.
func NewModel(cfg Config) Model {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if os.Getenv("NO_COLOR") != "" {
		cfg.NoColor = true
	}
	m := Model{
		cfg:    cfg,
		now:    cfg.Now,
		run:    NewRunState(cfg.Hosts, cfg.Steps),
		keys:   newKeyMap(),
		help:   help.New(),
		st:     newStyles(cfg.NoColor),
		width:  80,
		height: 24,
	}
	m.run.ApplyPlan(cfg.Plan)
	if cfg.Events != nil {
		m.rd = newReader(cfg.Events)
	}
	m.help.ShortSeparator = "  "
	m.bar = progress.New(progress.WithoutPercentage(), progress.WithFillCharacters('█', '░'))
	if !cfg.NoColor {
		m.bar = progress.New(progress.WithoutPercentage(), progress.WithDefaultBlend())
	}
	return m
}

// State is the run as the model knows it.
func (m Model) State() *RunState { return m.run }

// Paused reports whether the operator paused the run.
func (m Model) Paused() bool { return m.paused }

// Started reports whether the operator confirmed the plan.
func (m Model) Started() bool { return m.started }

// Aborting reports whether a graceful abort was asked for.
func (m Model) Aborting() bool { return m.aborting }

// Confirming names the question on screen ("abort", "rollback h2",
// "quit"), or "".
func (m Model) Confirming() string {
	switch m.confirm {
	case confirmAbort:
		return "abort"
	case confirmRollback:
		return "rollback " + m.confirmHost
	case confirmQuit:
		return "quit"
	}
	return ""
}

// Quitting reports whether the model asked the program to end.
func (m Model) Quitting() bool { return m.quitting }

// Selected is the name of the selected host.
func (m Model) Selected() string {
	if m.selected < len(m.run.Hosts) {
		return m.run.Hosts[m.selected].Name
	}
	return ""
}

// Init starts reading events.
func (m Model) Init() tea.Cmd {
	return m.rd.next()
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Update handles a message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 20), max(msg.Height, 8)
		return m, nil
	case eventMsg:
		m.rd.applied(msg.seq)
		was := m.run.Finished
		m.run.Apply(msg.e)
		if msg.e.Phase == fleet.PhaseStart && msg.e.Host != "" {
			m.followHost(msg.e.Host)
		}
		if m.run.Finished && !was {
			m.flash = "" // the run's end replaces the last word on aborting or stopping
		}
		if e := msg.e; e.Step == fleet.StepRollback && e.Phase != fleet.PhaseStart && e.Phase != fleet.PhaseInfo &&
			(m.flash == "rolling back "+e.Host || strings.HasPrefix(m.flash, "rolling back the canary "+e.Host+":")) {
			m.flash = "" // the host's row says how its rollback ended
		}
		return m, m.rd.next()
	case streamClosedMsg:
		m.closed = true
		return m, nil
	case tickMsg:
		if m.quitting {
			return m, nil
		}
		return m, tick()
	case tea.KeyPressMsg:
		return m.onKey(msg)
	}
	return m, nil
}

// busy: the run is going, or a host is being rolled back.
func (m Model) busy() bool {
	if m.started && !m.run.Finished && !m.closed {
		return true
	}
	return m.run.Counts().RollingBack > 0 && !m.closed
}

func (m Model) quit() (tea.Model, tea.Cmd) {
	m.quitting = true
	return m, tea.Quit
}

func (m Model) onKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	m.flash = ""
	if key.Matches(k, m.keys.Interrupt) {
		return m.interrupt()
	}
	if m.confirm != confirmNone {
		return m.onConfirm(k)
	}
	if m.list.typing {
		return m.onFilterKey(k)
	}
	switch m.screen {
	case screenPlan:
		return m.onPlanKey(k)
	case screenHelp:
		return m.onHelpKey(k)
	}
	if !m.expanded && m.onListKey(k) {
		m.scroll = 0
		return m, nil
	}
	switch {
	case key.Matches(k, m.keys.Help):
		m.back, m.screen, m.scroll = m.screen, screenHelp, 0
	case key.Matches(k, m.keys.Timings):
		if m.screen == screenTimings {
			m.screen = screenRun
		} else {
			m.screen = screenTimings
		}
		m.scroll = 0
	case key.Matches(k, m.keys.Back):
		switch {
		case m.screen == screenTimings:
			m.screen, m.scroll = screenRun, 0
		case m.expanded:
			m.expanded, m.scroll = false, 0
		}
	case key.Matches(k, m.keys.Quit):
		if !m.busy() {
			return m.quit()
		}
		m.confirm = confirmQuit
	case key.Matches(k, m.keys.Pause):
		m.togglePause()
	case key.Matches(k, m.keys.Abort):
		m.askAbort()
	case key.Matches(k, m.keys.Rollback):
		m.askRollback()
	case m.screen == screenTimings || m.expanded:
		if key.Matches(k, m.keys.Details) && m.expanded {
			m.expanded, m.scroll = false, 0
			break
		}
		if m.screen == screenRun && (key.Matches(k, m.keys.Up) || key.Matches(k, m.keys.Down)) {
			m.move(k)
			m.scroll = 0
			break
		}
		m.scrollKey(k)
	case key.Matches(k, m.keys.Details):
		m.expanded, m.scroll = true, 0
	case key.Matches(k, m.keys.Up, m.keys.Down):
		m.move(k)
	}
	return m, nil
}

func (m Model) onHelpKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if key.Matches(k, m.keys.Help, m.keys.Back, m.keys.Quit) {
		m.screen, m.scroll = m.back, 0
	} else {
		m.scrollKey(k)
	}
	return m, nil
}

// askAbort asks to confirm a graceful abort, or says why there is none.
func (m *Model) askAbort() {
	switch {
	case !m.started || m.run.Finished:
		m.flash = "the run has ended: nothing to abort"
	case m.aborting:
		m.flash = "already aborting (ctrl+c: stop now)"
	default:
		m.confirm = confirmAbort
	}
}

// askRollback asks to confirm the selected host's rollback, or says why it
// cannot be rolled back.
func (m *Model) askRollback() {
	h := m.selectedHost()
	if h == nil {
		return
	}
	if ok, why := h.CanRollBack(); !ok {
		m.flash = why
		return
	}
	m.confirm, m.confirmHost = confirmRollback, h.Name
}

// scrollKey scrolls the current scrollable view, within its bounds.
func (m *Model) scrollKey(k tea.KeyPressMsg) {
	page := max(m.height-8, 1)
	d := 0
	switch {
	case key.Matches(k, m.keys.Up):
		d = -1
	case key.Matches(k, m.keys.Down):
		d = 1
	case key.Matches(k, m.keys.PageUp):
		d = -page
	case key.Matches(k, m.keys.PageDown):
		d = page
	}
	if m.expanded && m.screen == screenRun {
		d = -d // the log is anchored at its newest line
	}
	m.scroll = max(0, min(m.scroll+d, m.maxScroll()))
}

func (m Model) onPlanKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(k, m.keys.Start):
		m.started, m.screen, m.scroll = true, screenRun, 0
		if f := m.cfg.Controls.Start; f != nil {
			f()
		}
		return m, tick()
	case key.Matches(k, m.keys.Quit):
		return m.quit()
	case key.Matches(k, m.keys.Back):
		// The plan is the first screen: there is nothing to go back to,
		// and leaving is q's, said so rather than done.
		m.scroll = 0
		m.flash = "the plan is the first screen: q quits (nothing changed), enter/y starts"
	case key.Matches(k, m.keys.Help):
		m.back, m.screen, m.scroll = screenPlan, screenHelp, 0
	default:
		m.scrollKey(k)
	}
	return m, nil
}

func (m *Model) togglePause() {
	switch {
	case !m.started || m.run.Finished:
		m.flash = "the run has ended: nothing to pause"
		return
	case m.aborting:
		m.flash = "aborting: no new host starts anyway"
		return
	}
	m.paused = !m.paused
	if f := m.cfg.Controls.Pause; f != nil {
		f(m.paused)
	}
	if m.paused {
		m.flash = "paused: no new host starts; hosts in flight go on (p: resume)"
	} else {
		m.flash = "resumed"
	}
}

// interrupt is Ctrl-C: before the run, quit; during it, first a graceful
// abort, then stop now, then leave the TUI.
func (m Model) interrupt() (tea.Model, tea.Cmd) {
	m.confirm = confirmNone
	if !m.busy() {
		m.interrupted = !m.started
		return m.quit()
	}
	switch {
	case m.started && !m.run.Finished && !m.aborting:
		m.doAbort()
		m.flash = "aborting: no new host starts, hosts in flight stop at their next step (ctrl+c again: stop now)"
	case m.started && !m.run.Finished && !m.stopping:
		m.stopping = true
		if f := m.cfg.Controls.Stop; f != nil {
			f()
		}
		m.flash = "stopping now: steps in progress are cancelled (ctrl+c again: leave the TUI)"
	default:
		return m.quit()
	}
	return m, nil
}

func (m *Model) doAbort() {
	if m.aborting {
		return
	}
	m.aborting = true
	if f := m.cfg.Controls.Abort; f != nil {
		f()
	}
}

func (m Model) onConfirm(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(k, m.keys.Yes):
		c := m.confirm
		m.confirm = confirmNone
		switch c {
		case confirmAbort:
			m.doAbort()
			m.flash = "aborting: no new host starts, hosts in flight stop at their next step"
		case confirmRollback:
			h := m.run.Host(m.confirmHost)
			if h == nil {
				break
			}
			if ok, why := h.CanRollBack(); !ok {
				m.flash = why
				break
			}
			canary := h.Batch == 0 && m.started && !m.run.Finished && !m.aborting
			if canary && !m.paused {
				// Undoing the canary undoes the proof the rest of the
				// run stands on: no new host starts until the operator
				// says so.
				m.togglePause()
			}
			h.beforeRollback, h.Status = h.Status, StatusRollingBack
			if f := m.cfg.Controls.Rollback; f != nil {
				f(h.Name, h.RunID())
			}
			m.flash = "rolling back " + h.Name
			if canary {
				m.flash = "rolling back the canary " + h.Name + ": run paused, no new host starts (p: resume)"
			}
		case confirmQuit:
			if m.started && !m.run.Finished {
				m.doAbort()
			}
			return m.quit()
		}
	case key.Matches(k, m.keys.No):
		m.confirm = confirmNone
	}
	return m, nil
}

func (m Model) selectedHost() *Host {
	if m.selected < len(m.run.Hosts) {
		return &m.run.Hosts[m.selected]
	}
	return nil
}

// View renders the current screen.
func (m Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "fleetfix"
	return v
}
