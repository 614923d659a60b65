package remote

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSudoArgv(t *testing.T) {
	argv := []string{"systemctl", "restart", "my unit"}
	tests := []struct {
		name         string
		withPassword bool
		wantPrefix   []string
	}{
		{"nopasswd", false, []string{"sudo", "-n", "--"}},
		{"password", true, []string{"sudo", "-k", "-S", "-p", sudoPrompt + "\n", "--", "sh", "-c", sudoGuard, "fleetfix-sudo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sudoArgv(argv, tc.withPassword)
			want := append(slices.Clone(tc.wantPrefix), argv...)
			if !slices.Equal(got, want) {
				t.Errorf("sudoArgv = %q, want %q", got, want)
			}
		})
	}
	if argv[0] != "systemctl" || len(argv) != 3 {
		t.Errorf("sudoArgv modified its input: %q", argv)
	}
}

func TestSudoStdin(t *testing.T) {
	tests := []struct {
		pw, data string
		want     string
	}{
		{"s3cret", "", "s3cret\n" + sudoMarker + "\n"},
		{"s3cret", "payload\nline2", "s3cret\n" + sudoMarker + "\npayload\nline2"},
		{"", "x", "\n" + sudoMarker + "\nx"},
	}
	for _, tc := range tests {
		if got := sudoStdin([]byte(tc.pw), []byte(tc.data)); string(got) != tc.want {
			t.Errorf("sudoStdin(%q, %q) = %q, want %q", tc.pw, tc.data, got, tc.want)
		}
	}
}

func TestSudoPasswordNotInArgv(t *testing.T) {
	const pw = "hunter2-very-secret"
	for _, with := range []bool{false, true} {
		argv := sudoArgv([]string{"id", "-u"}, with)
		if strings.Contains(strings.Join(argv, "\x00"), pw) || strings.Contains(QuoteArgs(argv), pw) {
			t.Errorf("password in argv %q", argv)
		}
	}
}

// fakeSudo stands in for sudo, locally and (first in PATH through the
// test sshd's SetEnv) on the test host, with the behaviour that matters
// here. Its state lives in $FAKE_SUDO_STATE: the expected password in
// "password", a "nopasswd" file acting as a NOPASSWD rule, and every
// invocation's arguments appended to "argv.log", and each password attempt
// to "attempts". Like sudo, with -S it writes the -p prompt to stderr and
// reads the password one line at a time (up to 3 tries, stopping at the end
// of stdin) and the command inherits the rest of stdin; -n fails unless
// NOPASSWD.
const fakeSudo = `#!/bin/sh
state=${FAKE_SUDO_STATE:?}
printf '%s\n' "$(printf '%s' "$*" | tr '\n' ' ')" >> "$state/argv.log"
mode=
while [ $# -gt 0 ]; do
	case $1 in
	--) shift; break ;;
	-S) mode=S ;;
	-n) mode=n ;;
	-p) prompt=$2; shift ;;
	esac
	shift
done
if [ ! -e "$state/nopasswd" ]; then
	if [ "$mode" = n ]; then
		echo "sudo: a password is required" >&2
		exit 1
	fi
	if [ "$mode" = S ]; then
		want=$(cat "$state/password")
		tries=0
		while :; do
			printf '%s' "$prompt" >&2
			if ! IFS= read -r pw; then
				echo "sudo: $tries incorrect password attempt(s)" >&2
				exit 1
			fi
			echo attempt >> "$state/attempts"
			[ "$pw" = "$want" ] && break
			tries=$((tries + 1))
			echo "Sorry, try again." >&2
			if [ "$tries" -ge 3 ]; then
				echo "sudo: $tries incorrect password attempts" >&2
				exit 1
			fi
		done
	fi
fi
exec "$@"
`

// fakeSudoState prepares a state directory for fakeSudo.
func fakeSudoState(t *testing.T, dir, password string, nopasswd bool) {
	t.Helper()
	for _, f := range []string{"argv.log", "nopasswd", "attempts"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "password"), []byte(password+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if nopasswd {
		if err := os.WriteFile(filepath.Join(dir, "nopasswd"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runFakeSudo runs the composed sudo command line through a local sh, as the
// login shell would, with fakeSudo first in PATH.
func runFakeSudo(t *testing.T, password string, nopasswd bool, argv []string, stdin []byte) (stdout, stderr []byte, err error) {
	t.Helper()
	bin, state := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "sudo"), []byte(fakeSudo), 0o755); err != nil {
		t.Fatal(err)
	}
	fakeSudoState(t, state, password, nopasswd)
	cmd := exec.Command("sh", "-c", QuoteArgs(argv))
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_SUDO_STATE="+state)
	cmd.Stdin = bytes.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if log, _ := os.ReadFile(filepath.Join(state, "argv.log")); bytes.Contains(log, []byte(password)) {
		t.Errorf("password in sudo's argv: %q", log)
	}
	return o.Bytes(), e.Bytes(), err
}

func exitErrorFrom(t *testing.T, err error, stderr []byte) error {
	t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &ExitError{Host: "h", Argv: []string{"cat"}, Status: ee.ExitCode(), Stderr: stderr}
	}
	if err != nil {
		t.Fatal(err)
	}
	return nil
}

// TestSudoComposition checks the argv and stdin built for sudo with a shell
// and a sudo stand-in: the command gets exactly the data, arguments stay
// literal, and the password never reaches the command or an error.
func TestSudoComposition(t *testing.T) {
	const pw = "pa ss'$(word)"
	data := []byte("line one\nline two\n")
	tests := []struct {
		name       string
		sudoPW     string // what sudo expects
		nopasswd   bool
		argv       []string
		wantOut    string
		wantStatus int
		wantRefuse bool // the guard refused: sudo did not read the password
		wantSudo   bool // sudoFailure reports a sudo error
	}{
		{name: "password read by sudo", sudoPW: pw, argv: []string{"cat"}, wantOut: string(data)},
		{name: "literal arguments", sudoPW: pw, argv: []string{"printf", "%s|", "a b", "$(id)", "`id`", "'"},
			wantOut: "a b|$(id)|`id`|'|"},
		{name: "nopasswd rule", sudoPW: pw, nopasswd: true, argv: []string{"cat"}, wantStatus: sudoGuardStatus, wantRefuse: true},
		{name: "wrong password", sudoPW: "other", argv: []string{"cat"}, wantStatus: 1, wantSudo: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runFakeSudo(t, tc.sudoPW, tc.nopasswd, sudoArgv(tc.argv, true), sudoStdin([]byte(pw), data))
			if bytes.Contains(stdout, []byte(pw)) || bytes.Contains(stderr, []byte(pw)) {
				t.Fatalf("password leaked: stdout %q stderr %q", stdout, stderr)
			}
			runErr := exitErrorFrom(t, err, stderr)
			status := 0
			var ee *ExitError
			if errors.As(runErr, &ee) {
				status = ee.Status
			}
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d (stderr %q)", status, tc.wantStatus, stderr)
			}
			if string(stdout) != tc.wantOut {
				t.Errorf("stdout %q, want %q", stdout, tc.wantOut)
			}
			if got := guardRefused(runErr); got != tc.wantRefuse {
				t.Errorf("guardRefused = %v, want %v", got, tc.wantRefuse)
			}
			final := sudoFailure(runErr, true)
			var se *sudoError
			if got := errors.As(final, &se); got != tc.wantSudo {
				t.Errorf("sudo error = %v (%v), want %v", got, final, tc.wantSudo)
			}
			if final != nil && strings.Contains(final.Error(), pw) {
				t.Errorf("password in error %q", final)
			}
		})
	}

	// After a refusal the command is run the NOPASSWD way, without the
	// password on stdin.
	stdout, stderr, err := runFakeSudo(t, pw, true, sudoArgv([]string{"cat"}, false), data)
	if err != nil || string(stdout) != string(data) {
		t.Errorf("nopasswd run: %v, stdout %q, stderr %q", err, stdout, stderr)
	}
}

func TestSudoFailure(t *testing.T) {
	exit := func(status int, stderr string) error {
		return &ExitError{Host: "h1", Argv: []string{"id"}, Status: status, Stderr: []byte(stderr)}
	}
	tests := []struct {
		name         string
		err          error
		withPassword bool
		wantMsg      string // "" = returned unchanged
	}{
		{"nil", nil, true, ""},
		{"other error", errors.New("boom"), true, ""},
		{"command failed", exit(1, "id: no such user"), true, ""},
		{"status 2", exit(2, "Sorry, try again."), true, ""},
		{"wrong password", exit(1, "Sorry, try again.\nsudo: 1 incorrect password attempt\n"), true, "wrong password or user not allowed"},
		{"not in sudoers", exit(1, "deploy is not in the sudoers file.\n"), true, "wrong password or user not allowed"},
		{"password required", exit(1, "sudo: a password is required\n"), false, "a password is required but none is configured"},
		{"not allowed nopasswd", exit(1, "Sorry, user deploy is not allowed to execute '/bin/id' as root on h1.\n"), false, "user not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sudoFailure(tc.err, tc.withPassword)
			if tc.wantMsg == "" {
				if got != tc.err {
					t.Errorf("sudoFailure changed %v into %v", tc.err, got)
				}
				return
			}
			if got == nil || !strings.Contains(got.Error(), tc.wantMsg) || !strings.Contains(got.Error(), "h1") {
				t.Fatalf("sudoFailure = %v, want message containing %q and the host", got, tc.wantMsg)
			}
			var ee *ExitError
			if !errors.As(got, &ee) {
				t.Errorf("sudo error does not unwrap to *ExitError")
			}
		})
	}
}

func TestSudoPasswordCalledOnce(t *testing.T) {
	calls := 0
	s := &sudoPassword{get: func() ([]byte, error) {
		calls++
		return []byte("pw"), nil
	}}
	for i := 0; i < 3; i++ {
		pw, ok, err := s.password()
		if err != nil || !ok || string(pw) != "pw" {
			t.Fatalf("password() = %q, %v, %v", pw, ok, err)
		}
	}
	if calls != 1 {
		t.Errorf("BecomePassword called %d times, want 1", calls)
	}
	s.forget()
	if _, _, err := s.password(); err == nil {
		t.Error("password() after forget succeeded")
	}
	if calls != 1 {
		t.Errorf("BecomePassword called again after forget")
	}
}

func TestSudoPasswordErrors(t *testing.T) {
	tests := []struct {
		name   string
		get    func() ([]byte, error)
		wantOK bool
		errSub string
	}{
		{"nopasswd", nil, false, ""},
		{"callback error", func() ([]byte, error) { return nil, errors.New("no tty") }, false, "no tty"},
		{"newline", func() ([]byte, error) { return []byte("a\nb"), nil }, false, "line break"},
		{"empty password", func() ([]byte, error) { return []byte{}, nil }, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &sudoPassword{get: tc.get}
			_, ok, err := s.password()
			if ok != tc.wantOK {
				t.Errorf("ok = %v, want %v", ok, tc.wantOK)
			}
			if (err != nil) != (tc.errSub != "") || (err != nil && !strings.Contains(err.Error(), tc.errSub)) {
				t.Errorf("err = %v, want containing %q", err, tc.errSub)
			}
			if err != nil && strings.Contains(err.Error(), "a\nb") {
				t.Errorf("error echoes the password: %v", err)
			}
		})
	}
}
