package lab

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseDistros(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "", want: []string{"bookworm"}},
		{in: "trixie", want: []string{"trixie"}},
		{in: "bookworm, trixie", want: []string{"bookworm", "trixie"}},
		{in: "bookworm,noble", wantErr: `distro "noble": the lab builds bookworm, trixie`},
	}
	for _, tt := range tests {
		got, err := ParseDistros(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseDistros(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseDistros(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestPackageVersion(t *testing.T) {
	root := t.TempDir()
	status := "Package: systemd-sysv\nStatus: install ok installed\nVersion: 1\n\n" +
		"Package: systemd\nStatus: install ok installed\nVersion: 257.13-1~deb13u1\nDepends: x\n\n"
	if err := os.MkdirAll(filepath.Join(root, "var/lib/dpkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, err := packageVersion(root, "systemd"); err != nil || v != "257.13-1~deb13u1" {
		t.Errorf("systemd = %q, %v", v, err)
	}
	if _, err := packageVersion(root, "udev"); err == nil || !strings.Contains(err.Error(), "no package udev") {
		t.Errorf("udev: %v", err)
	}
}

// setSSHD switches between the two ways sshd starts, both ways, twice.
func TestSetSSHD(t *testing.T) {
	root := t.TempDir()
	for _, socket := range []bool{true, true, false, true} {
		if err := setSSHD(root, socket); err != nil {
			t.Fatal(err)
		}
		_, errSock := os.Lstat(filepath.Join(root, sshSocketLink))
		_, errSvc := os.Lstat(filepath.Join(root, sshServiceLink))
		if (errSock == nil) != socket || (errSvc == nil) == socket {
			t.Errorf("socket=%v: ssh.socket link %v, ssh.service link %v", socket, errSock, errSvc)
		}
	}
}
