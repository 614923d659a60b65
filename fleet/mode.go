package fleet

import (
	"io/fs"

	"github.com/fleetfix/fleetfix/internal/unixmode"
)

// octalMode writes a Go file mode as the Unix octal a person reads: "4755".
func octalMode(m fs.FileMode) string { return unixmode.Octal(m) }

// parseOctalMode reads octalMode's form back.
func parseOctalMode(s string) (fs.FileMode, error) { return unixmode.ParseOctal(s) }
