package shscript

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Files lists the files under dir in fsys, lib/ fragments included, by
// their paths under dir.
func Files(t testing.TB, fsys fs.FS, dir string) []string {
	t.Helper()
	var names []string
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, strings.TrimPrefix(p, dir+"/"))
		}
		return err
	})
	if err != nil || len(names) == 0 {
		t.Fatalf("no scripts embedded under %s: %v", dir, err)
	}
	return names
}

// syntaxCheckers are the shells that parse a script without running it
// (-n): bash for every script, and for the sh ones bash in POSIX mode and
// the hosts' usual /bin/sh, dash, when this machine has them.
func syntaxCheckers(file string) [][]string {
	if strings.HasSuffix(file, ".bash") {
		return [][]string{{"bash", "-n"}}
	}
	return [][]string{{"bash", "-n"}, {"bash", "--posix", "-n"}, {"dash", "-n"}, {"sh", "-n"}}
}

// checkSyntax parses body with shell, an argv ending in -n; false when
// this machine has no such shell.
func checkSyntax(shell []string, body string) (bool, error) {
	if _, err := exec.LookPath(shell[0]); err != nil {
		return false, nil
	}
	out, err := exec.Command(shell[0], append(shell[1:], "-c", body, "fleetfix-syntax")...).CombinedOutput()
	if err != nil {
		return true, fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
	}
	return true, nil
}

// Check parses every script under dir in fsys, as it runs (header left
// out, includes expanded), with each shell that may run it: a .bash file
// with bash, any other with bash, bash --posix, dash and sh.
func Check(t *testing.T, fsys fs.FS, dir string) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash to check the scripts with")
	}
	// The check itself must reject a broken script.
	if ran, err := checkSyntax([]string{"bash", "-n"}, "if true; then\n"); !ran || err == nil {
		t.Fatalf("bash -n accepted a broken script (ran %v)", ran)
	}
	for _, file := range Files(t, fsys, dir) {
		t.Run(file, func(t *testing.T) {
			body, err := Text(fsys, dir, file)
			if err != nil {
				t.Fatal(err)
			}
			for _, shell := range syntaxCheckers(file) {
				if ran, err := checkSyntax(shell, body); err != nil {
					t.Errorf("%s: %v", strings.Join(shell, " "), err)
				} else if !ran {
					t.Logf("%s not found: not checked with it", shell[0])
				}
			}
		})
	}
}

// loaderFiles returns how many times each file is passed to one of the
// loaders (functions taking a script's file name) in the Go source, tests
// left out, of the current directory: the package under test.
func loaderFiles(t *testing.T, loaders []string) map[string]int {
	t.Helper()
	srcs, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]int{}
	fset := token.NewFileSet()
	for _, src := range srcs {
		if strings.HasSuffix(src, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, src, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			if fn, ok := call.Fun.(*ast.Ident); !ok || !slices.Contains(loaders, fn.Name) {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Fatalf("%s: a script's loader takes a literal file name", fset.Position(call.Pos()))
			}
			name, _ := strconv.Unquote(lit.Value)
			used[name]++
			return true
		})
	}
	return used
}

// CheckUsed checks that every file under dir in fsys is the script of
// exactly one call to one of loaders in the package's Go source, or a
// fragment in lib/ that some script includes, and that each starts with
// its header comment; and that every loader's file exists.
func CheckUsed(t *testing.T, fsys fs.FS, dir string, loaders ...string) {
	t.Helper()
	used := loaderFiles(t, loaders)
	included := map[string]bool{}
	files := Files(t, fsys, dir)
	for _, file := range files {
		data, err := fs.ReadFile(fsys, path.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "# ") {
			t.Errorf("%s does not start with a header comment", file)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if inc, ok := strings.CutPrefix(line, Include); ok {
				included[inc] = true
			}
		}
	}
	for _, file := range files {
		switch n := used[file]; {
		case strings.HasPrefix(file, "lib/"):
			if n != 0 || !included[file] {
				t.Errorf("fragment %s: %d scripts of its own, included %v; want 0, true", file, n, included[file])
			}
		case n != 1:
			t.Errorf("%s is the script of %d calls to %s, want 1", file, n, strings.Join(loaders, " or "))
		}
		delete(used, file)
	}
	for file := range used {
		t.Errorf("%s: no such file in %s/", file, dir)
	}
}
