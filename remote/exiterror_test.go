package remote

import (
	"strings"
	"testing"
)

func TestExitErrorText(t *testing.T) {
	script := "set -e\n" + strings.Repeat("echo a long script line\n", 100)
	tests := []struct {
		name   string
		err    *ExitError
		want   string
		detail []string // substrings of Detail
	}{
		{name: "script: its name, the status, stderr's first line",
			err: &ExitError{Host: "h3", Argv: []string{"sh", "-c", script, "fleetfix-lock", "/var/lib/fleetfix/lock"}, Status: 75,
				Stderr: []byte("\nlocked by run 20261201_081502 (controller ops1 pid 26139)\nsecond line\n")},
			want:   "h3: locked by run 20261201_081502 (controller ops1 pid 26139) (fleetfix-lock exited with status 75)",
			detail: []string{"'set -e", "echo a long script line", "fleetfix-lock", "stderr:\nlocked by run", "second line"}},
		{name: "a program: its name",
			err:    &ExitError{Host: "h1", Argv: []string{"systemctl", "restart", "x.service"}, Status: 1, Stderr: []byte("Job failed.\n")},
			want:   "h1: Job failed. (systemctl exited with status 1)",
			detail: []string{"h1: 'systemctl' 'restart' 'x.service' exited with status 1; stderr:\nJob failed."}},
		{name: "no stderr",
			err:  &ExitError{Host: "h1", Argv: []string{"false"}, Status: 1},
			want: "h1: false exited with status 1"},
		{name: "a long line is cut",
			err:  &ExitError{Host: "h1", Argv: []string{"x"}, Status: 2, Stderr: []byte(strings.Repeat("e", 1000))},
			want: "h1: " + strings.Repeat("e", maxCause) + "... (x exited with status 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q\nwant      %q", got, tt.want)
			}
			for _, d := range tt.detail {
				if !strings.Contains(tt.err.Detail(), d) {
					t.Errorf("Detail lacks %q:\n%s", d, tt.err.Detail())
				}
			}
		})
	}
}

func TestSudoErrorText(t *testing.T) {
	// Argv is what the caller asked to run, not the sudo wrapping.
	ee := &ExitError{Host: "h2", Argv: []string{"sh", "-c", "long script", "fleetfix-backup"}, Status: 1,
		Stderr: []byte("Sorry, try again.\nsudo: 1 incorrect password attempt\n")}
	err := sudoFailure(ee, true)
	want := "h2: sudo: wrong password or user not allowed (running fleetfix-backup); sudo said: Sorry, try again."
	if err.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", err.Error(), want)
	}
	if strings.Contains(err.Error(), "long script") {
		t.Errorf("the script is in the error: %q", err)
	}
}
