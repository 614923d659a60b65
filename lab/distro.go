package lab

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

type distro struct {
	name       string
	socketSSHD bool
}

// distros are the Debian releases a lab host can run, each built by
// mmdebstrap from this machine's apt sources. socketSSHD: its sshd takes a
// listening socket from systemd (LISTEN_FDS), so ssh.socket can start it as
// Ubuntu 24.04 does; bookworm's sshd cannot, and its ssh.socket would only
// make ssh.service fail to bind port 22.
var distros = []distro{
	{"bookworm", false}, // Debian 12, systemd 252
	{"trixie", true},    // Debian 13, systemd 257
}

// ParseDistros reads a --distro value: one release, or several separated by
// commas, which the lab's hosts alternate (h1 the first, h2 the second, ...).
// "" is the default release.
func ParseDistros(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return []string{DefaultSuite}, nil
	}
	var out []string
	for _, d := range strings.Split(s, ",") {
		d = strings.TrimSpace(d)
		if !slices.ContainsFunc(distros, func(k distro) bool { return k.name == d }) {
			return nil, fmt.Errorf("distro %q: the lab builds %s", d, strings.Join(distroNames(), ", "))
		}
		out = append(out, d)
	}
	return out, nil
}

func distroNames() []string {
	names := make([]string, len(distros))
	for i, d := range distros {
		names[i] = d.name
	}
	return names
}

// canSocketSSHD reports whether distro's sshd can be socket-activated.
func canSocketSSHD(distro string) bool {
	for _, d := range distros {
		if d.name == distro {
			return d.socketSSHD
		}
	}
	return false
}

// packageVersion reads an installed package's version from the dpkg
// database of a root filesystem: what `lab status` shows of a host's
// systemd without logging in.
func packageVersion(root, pkg string) (string, error) {
	f, err := os.Open(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }() // read only
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	in := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			in = false
		case strings.HasPrefix(line, "Package: "):
			in = strings.TrimPrefix(line, "Package: ") == pkg
		case in && strings.HasPrefix(line, "Version: "):
			return strings.TrimPrefix(line, "Version: "), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("no package %s in %s", pkg, root)
}

// sshdUnits are the links that start sshd at boot, by service or by socket.
const (
	sshServiceLink = "etc/systemd/system/multi-user.target.wants/ssh.service"
	sshSocketLink  = "etc/systemd/system/sockets.target.wants/ssh.socket"
)

// setSSHD makes the host start sshd by ssh.socket (socket true) or by
// ssh.service, as `systemctl enable` of one and `disable` of the other would.
func setSSHD(root string, socket bool) error {
	on, off := sshServiceLink, sshSocketLink
	if socket {
		on, off = sshSocketLink, sshServiceLink
	}
	if err := os.Remove(filepath.Join(root, off)); err != nil && !os.IsNotExist(err) {
		return err
	}
	link := filepath.Join(root, on)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	if _, err := os.Lstat(link); err == nil {
		return nil
	}
	return os.Symlink("/lib/systemd/system/"+filepath.Base(on), link)
}
