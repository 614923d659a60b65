package plain

import (
	"fmt"

	"github.com/fleetfix/fleetfix/fleet"
)

// ChangeLine is a file's change in one line, old and new joined by arrow
// ("->" in plain text, "→" in the TUI): "~ /usr/local/bin/app  d2b36f0f8434
// -> 3aa2a5da482a  backup /usr/local/bin/app.bak.<run>", or "+ path  new
// <sha>  0644 root:root" for a file the run creates.
func ChangeLine(c fleet.Change, arrow string) string {
	if !c.Existed {
		return fmt.Sprintf("+ %s  new %s  %s %s", c.Path, short(c.NewSHA256), c.NewMode, c.NewOwner)
	}
	s := fmt.Sprintf("~ %s  %s %s %s", c.Path, short(c.OldSHA256), arrow, short(c.NewSHA256))
	if c.OldMode != c.NewMode {
		s += "  mode " + c.OldMode + " " + arrow + " " + c.NewMode
	}
	if c.OldOwner != c.NewOwner {
		s += "  owner " + c.OldOwner + " " + arrow + " " + c.NewOwner
	}
	if c.Backup != "" {
		s += "  backup " + c.Backup
	}
	return s
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
