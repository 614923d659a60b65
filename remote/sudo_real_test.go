package remote

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSudoRealHost runs the Become paths against the real sudo, logging in
// to a local sshd as non-root users that must already exist:
//
//	FLEETFIX_TEST_SUDO_USER           may sudo with its password,
//	FLEETFIX_TEST_SUDO_PASSWORD       which is this;
//	FLEETFIX_TEST_SUDO_NOPASSWD_USER  may sudo without one.
//
// The test key is authorized for every user of the test sshd. Skipped unless
// the variables are set; the lab tests cover the same ground on real hosts.
func TestSudoRealHost(t *testing.T) {
	pwUser, password := os.Getenv("FLEETFIX_TEST_SUDO_USER"), os.Getenv("FLEETFIX_TEST_SUDO_PASSWORD")
	npUser := os.Getenv("FLEETFIX_TEST_SUDO_NOPASSWD_USER")
	if pwUser == "" || password == "" || npUser == "" {
		t.Skip("set FLEETFIX_TEST_SUDO_USER, FLEETFIX_TEST_SUDO_PASSWORD and FLEETFIX_TEST_SUDO_NOPASSWD_USER to test against the real sudo")
	}
	e := needSSH(t)
	// Sessions on this sshd find the real sudo, not fakeSudo.
	plain, err := startSSHD(e.dir, "plain", e.authKeys, "")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.kill()
	kh := knownHostsFile(t, plain)

	tests := []sudoRealCase{
		{name: "password", user: pwUser, password: &password},
		{name: "nopasswd", user: npUser},
		{name: "password given, nopasswd rule", user: npUser, password: ptr("not the password")},
		{name: "wrong password", user: pwUser, password: ptr("wrong " + password), wantErr: "sudo: wrong password or user not allowed"},
		{name: "password missing", user: pwUser, wantErr: "a password is required but none is configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkSudoReal(t, e.config(plain, kh), tc, password) })
	}

	// Without sudo, a non-root login's cancelled command is killed by the
	// signal request (sshd honours those for non-root logins).
	t.Run("cancel as non-root", func(t *testing.T) {
		cfg := e.config(plain, kh)
		cfg.User = npUser
		c, err := Dial(testContext(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		marker := "28.517"
		if _, err := c.Run(ctx, "sleep", marker); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run: %v", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for processRunning(t, "sleep", marker) {
			if time.Now().After(deadline) {
				t.Fatal("remote sleep still running")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// sudoRealCase is a login to the real sudo and the password the client
// gives it, if any.
type sudoRealCase struct {
	name     string
	user     string
	password *string
	wantErr  string
}

// checkSudoReal logs in with cfg as tc's user and runs commands, an Upload
// and a Stat through the real sudo; password is the user's real one, which
// must not show in any error.
func checkSudoReal(t *testing.T, cfg Config, tc sudoRealCase, password string) {
	t.Helper()
	data := []byte("data line 1\ndata line 2\n")
	cfg.User = tc.user
	cfg.Become = true
	if tc.password != nil {
		cfg.BecomePassword = func() ([]byte, error) { return []byte(*tc.password), nil }
	}
	ctx := testContext(t)
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	out, err := c.RunInput(ctx, data, "cat")
	if tc.password != nil && bytes.Contains(out, []byte(*tc.password)) {
		t.Fatalf("password reached the command: %q", out)
	}
	if tc.wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Fatalf("error %v, want %q", err, tc.wantErr)
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("password in error: %v", err)
		}
		t.Logf("error: %v", err)
		return
	}
	if err != nil || !bytes.Equal(out, data) {
		t.Fatalf("RunInput cat = %q, %v; want %q", out, err, data)
	}
	if out, err := c.Run(ctx, "id", "-u"); err != nil || string(out) != "0\n" {
		t.Fatalf("id -u = %q, %v", out, err)
	}
	var ee *ExitError
	if _, err := c.Run(ctx, "sh", "-c", "echo oops >&2; exit 4"); !errors.As(err, &ee) || ee.Status != 4 {
		t.Errorf("failing command through sudo: %v", err)
	}

	dir := t.TempDir() // root's, 0700: only reachable through sudo
	dst := filepath.Join(dir, "conf")
	staged := stagingDirs(t)
	sum, err := c.Upload(ctx, bytes.NewReader(data), dst, 0o640, "nobody:nogroup")
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	fi, err := c.Stat(ctx, dst)
	if err != nil || fi.SHA256 != sum || fi.Owner != "nobody" || fi.Group != "nogroup" || fi.Mode != 0o640 {
		t.Errorf("Stat = %+v, %v", fi, err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Errorf("uploaded %q", got)
	}
	if _, err := c.Upload(ctx, bytes.NewReader(data), dst, 0o640, "no-such-user-fleetfix"); err == nil {
		t.Error("Upload with unknown owner succeeded")
	}
	assertOnlyEntries(t, dir, "conf")
	if left := newEntries(staged, stagingDirs(t)); len(left) > 0 {
		t.Errorf("staging directories left behind: %q", left)
	}
}
