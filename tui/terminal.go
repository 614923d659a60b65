package tui

import (
	"io"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

// colorProfile is the colours the TUI draws with, from TERM, COLORTERM,
// NO_COLOR and CLICOLOR alone. Bubbletea's own detection also asks
// terminfo and tmux, and under tmux TERM=xterm came out 256 colours that
// the terminal named by TERM may not have.
func colorProfile(env []string) colorprofile.Profile {
	return colorprofile.Env(env)
}

// saveTitle pushes the terminal's window title on its title stack; the
// returned func pops it back. Bubbletea, once it set a title, leaves it
// blank on exit instead of restoring the operator's.
func saveTitle(w io.Writer) (restore func()) {
	// XTWINOPS 22;0 pushes the icon and window titles, 23;0 pops them; a
	// terminal without a title stack ignores both.
	_, _ = io.WriteString(w, ansi.WindowOp(22, 0))
	return func() { _, _ = io.WriteString(w, ansi.WindowOp(23, 0)) }
}
