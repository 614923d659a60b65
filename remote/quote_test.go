package remote

import (
	"os/exec"
	"strings"
	"testing"
)

var quoteCases = []struct {
	name string
	in   string
	want string
}{
	{"empty", "", "''"},
	{"plain", "abc", "'abc'"},
	{"space", "a b", "'a b'"},
	{"single quote", "it's", `'it'\''s'`},
	{"only quote", "'", `''\'''`},
	{"double quotes", `say "hi"`, `'say "hi"'`},
	{"command substitution", "$(touch /tmp/pwned)", "'$(touch /tmp/pwned)'"},
	{"backticks", "`id`", "'`id`'"},
	{"variable", "$HOME", "'$HOME'"},
	{"newline", "a\nb", "'a\nb'"},
	{"glob", "*", "'*'"},
	{"tilde", "~", "'~'"},
	{"backslash", `a\b`, `'a\b'`},
	{"operators", "a;b|c&d>e<f", "'a;b|c&d>e<f'"},
	{"assignment", "A=b", "'A=b'"},
	{"leading dash", "-rf", "'-rf'"},
	{"reserved word", "if", "'if'"},
	{"utf8", "héllo wörld", "'héllo wörld'"},
}

func TestQuote(t *testing.T) {
	for _, tc := range quoteCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quote(tc.in); got != tc.want {
				t.Errorf("Quote(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestQuoteRoundTrip feeds quoted words to a real local sh and checks it
// hands back exactly the original strings, one argument each.
func TestQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, tc := range quoteCases {
		t.Run(tc.name, func(t *testing.T) {
			// Each argument is framed by NULs, so splitting and empty
			// arguments would show.
			script := `printf '%s\0' "$@"` + " " + Quote(tc.in) + " " + Quote(tc.in)
			out, err := exec.Command(sh, "-c", script).Output()
			if err != nil {
				t.Fatalf("sh: %v", err)
			}
			want := tc.in + "\x00" + tc.in + "\x00"
			if string(out) != want {
				t.Errorf("round trip of %q gave %q, want %q", tc.in, out, want)
			}
		})
	}
}

func TestQuoteArgs(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{nil, ""},
		{[]string{"ls"}, "'ls'"},
		{[]string{"printf", "%s", ""}, "'printf' '%s' ''"},
		{[]string{"echo", "a'b", "c d"}, `'echo' 'a'\''b' 'c d'`},
	}
	for _, tc := range tests {
		if got := QuoteArgs(tc.argv); got != tc.want {
			t.Errorf("QuoteArgs(%q) = %q, want %q", tc.argv, got, tc.want)
		}
	}
}

// TestQuoteArgsThroughShell runs a whole quoted command line, as the remote
// login shell would, and checks no argument was interpreted.
func TestQuoteArgsThroughShell(t *testing.T) {
	dir := t.TempDir()
	argv := []string{"printf", "%s\n", "$(touch " + dir + "/pwned)", "`touch " + dir + "/pwned`", "; touch " + dir + "/pwned", "a\nb"}
	out, err := exec.Command("sh", "-c", QuoteArgs(argv)).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join(argv[2:], "\n") + "\n"
	if string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if _, err := exec.Command("test", "-e", dir+"/pwned").Output(); err == nil {
		t.Error("an argument was executed by the shell")
	}
}
