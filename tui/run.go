package tui

import (
	"context"
	"errors"
	"os"

	tea "charm.land/bubbletea/v2"

	"github.com/fleetfix/fleetfix/fleet"
)

// Result is what Run hands back.
type Result struct {
	// Unshown are events Run took from the stream but never showed (they
	// arrived as the TUI ended), in order: print them, then the rest of
	// the stream. Run reads nothing more once it has returned.
	Unshown []fleet.Event
	// Interrupted: the operator left with Ctrl-C before the run started.
	Interrupted bool
}

// Run shows the TUI on the terminal until the operator quits (or ctx ends).
// The terminal is restored whatever happens, panics included. The caller
// prints the run's final summary after Run returns (the TUI keeps it on
// screen until then). ErrInterrupted: the program got SIGINT from outside.
func Run(ctx context.Context, cfg Config) (Result, error) {
	m := NewModel(cfg)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithColorProfile(colorProfile(os.Environ())))
	restoreTitle := saveTitle(os.Stdout) // bubbletea's output
	final, err := p.Run()
	restoreTitle()
	res := Result{Unshown: m.rd.stop()}
	if fm, ok := final.(Model); ok {
		res.Interrupted = fm.interrupted
	}
	switch {
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		err = ctx.Err()
	case errors.Is(err, tea.ErrInterrupted):
		err = ErrInterrupted
	}
	return res, err
}

// ErrInterrupted is returned by Run when a SIGINT reached the program
// (Ctrl-C itself arrives as a key while the TUI runs).
var ErrInterrupted = errors.New("tui: interrupted")
