package sshcfg

import (
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		line string
		want []string // nil: an error
	}{
		{"nc %h %p", []string{"nc", "%h", "%p"}},
		{"  ssh\t-W  %h:%p   bastion ", []string{"ssh", "-W", "%h:%p", "bastion"}},
		{`nc -x "proxy host:3128" %h`, []string{"nc", "-x", "proxy host:3128", "%h"}},
		{`a 'b "c" d' e`, []string{"a", `b "c" d`, "e"}},
		{`a\ b c\"d \\ \x`, []string{"a b", `c"d`, `\`, `\x`}},
		{`a"b c"d`, []string{"ab cd"}},
		{"echo ;rm -rf / $(id) |x", []string{"echo", ";rm", "-rf", "/", "$(id)", "|x"}}, // no shell
		{`a "b`, nil},
		{"   ", nil},
	}
	for _, tt := range tests {
		got, err := Split(tt.line)
		if tt.want == nil {
			if err == nil {
				t.Errorf("Split(%q) = %q, want an error", tt.line, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
}

func TestExpand(t *testing.T) {
	tok := Tokens{'h': "db1.example", 'p': "2222", 'r': "ops", 'n': "db1", 'u': "me", 'd': "/home/me"}
	tests := []struct{ in, want string }{
		{"~/.ssh/id_%r@%h", "/home/me/.ssh/id_ops@db1.example"},
		{"%d/known_hosts.%n", "/home/me/known_hosts.db1"},
		{"100%% %p", "100% 2222"},
		{"~", "/home/me"},
		{"~other/x", "~other/x"},
		{"%C", ""}, // unsupported token: an error
		{"50%", ""},
	}
	for _, tt := range tests {
		got, err := Expand(tt.in, tok)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Expand(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestCommand: a token is expanded inside the argument it stands in, so a
// host name with blanks or shell syntax stays one argument.
func TestCommand(t *testing.T) {
	got, err := Command("nc %h %p", Tokens{'h': "evil; rm -rf ~", 'p': "22"})
	want := []string{"nc", "evil; rm -rf ~", "22"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Command = %q, %v; want %q", got, err, want)
	}
}
