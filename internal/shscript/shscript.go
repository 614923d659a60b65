// Package shscript reads the shell scripts a package embeds, one file each
// under a directory, as a host runs them: without the header comment that
// documents each and with its includes expanded. Check and CheckUsed are
// the tests every such package runs over its scripts.
package shscript

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Include starts a script's line that stands for another file's text,
// named by its path under the scripts' directory.
const Include = "#include "

// Text is the text of file (a path under dir in fsys) as it runs: without
// its header comment (the leading lines that start with "#"), which
// documents it but need not travel to every host, and with each line
// "#include FILE" replaced by FILE's text.
func Text(fsys fs.FS, dir, file string) (string, error) {
	data, err := fs.ReadFile(fsys, path.Join(dir, file))
	if err != nil {
		return "", fmt.Errorf("script %s: %w", file, err)
	}
	text := string(data)
	for strings.HasPrefix(text, "#") && !strings.HasPrefix(text, Include) {
		_, text, _ = strings.Cut(text, "\n")
	}
	var b strings.Builder
	for line := range strings.SplitAfterSeq(text, "\n") {
		inc, ok := strings.CutPrefix(line, Include)
		if !ok {
			b.WriteString(line)
			continue
		}
		sub, err := Text(fsys, dir, strings.TrimSuffix(inc, "\n"))
		if err != nil {
			return "", fmt.Errorf("script %s: %w", file, err)
		}
		b.WriteString(sub)
	}
	return b.String(), nil
}
