package tui

import "charm.land/bubbles/v2/key"

// keyMap holds every key binding; the help line and the help screen are
// built from it.
type keyMap struct {
	Up, Down, PageUp, PageDown key.Binding
	Details                    key.Binding
	Pause, Abort, Rollback     key.Binding
	Timings, Help, Back, Quit  key.Binding
	Interrupt                  key.Binding
	Start, Yes, No             key.Binding
	// The host list of a big fleet.
	Filter, FailedOnly, SortStop, Follow key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Up:         key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:       key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:     key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup", "scroll up")),
		PageDown:   key.NewBinding(key.WithKeys("pgdown", "space", " ", "f"), key.WithHelp("pgdn", "scroll down")),
		Details:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Pause:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause")),
		Abort:      key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "abort")),
		Rollback:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rollback")),
		Timings:    key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "timings")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Back:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Quit:       key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Interrupt:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "abort (twice: stop now)")),
		Start:      key.NewBinding(key.WithKeys("enter", "y"), key.WithHelp("enter/y", "start")),
		Yes:        key.NewBinding(key.WithKeys("y", "Y", "enter"), key.WithHelp("y", "yes")),
		No:         key.NewBinding(key.WithKeys("n", "N", "esc", "q"), key.WithHelp("n", "no")),
		Filter:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		FailedOnly: key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "failed only")),
		SortStop:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort by stop")),
		Follow:     key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "follow")),
	}
}

// helpKeys adapts the key map to bubbles/help for one screen.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h helpKeys) ShortHelp() []key.Binding  { return h.short }
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }

// runHelp is the help of the running screen; paused flips the p label,
// and pause and abort are hidden once the run is over.
func (k keyMap) runHelp(paused, over bool) helpKeys {
	pause, abort := k.Pause, k.Abort
	if paused {
		pause.SetHelp("p", "resume")
	}
	pause.SetEnabled(!over)
	abort.SetEnabled(!over)
	sel := key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑↓", "host"))
	return helpKeys{
		short: []key.Binding{sel, k.Details, pause, abort, k.Rollback, k.Timings, k.Help, k.Quit},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Details, k.Back},
			{k.Pause, k.Abort, k.Rollback, k.Interrupt},
			// Three columns: a fourth would not fit 80.
			{k.Timings, k.Filter, k.FailedOnly, k.SortStop, k.Follow, k.Help, k.Quit},
		},
	}
}
