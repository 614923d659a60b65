package lab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// rootfsPackages are what every lab host has besides minbase.
var rootfsPackages = []string{
	"systemd", "systemd-sysv", "dbus", "openssh-server", "python3",
	"iproute2", "procps", "sudo",
}

// LabUserPassword is the sudo password of the lab's "ops" user. It is a
// throwaway lab credential: hosts are reachable from this machine only.
const LabUserPassword = "fleetlab-ops" //nolint:gosec // G101: a public throwaway lab password, by design

// rootfsHook prepares the shared root filesystem; everything per host (machine
// id, host keys, authorized keys, the demo service) is written later into the
// host's overlay. Changing this script changes the cache key.
const rootfsHook = `set -eu
r="$1"
mkdir -p "$r/var/log/journal" "$r/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=persistent\n' > "$r/etc/systemd/journald.conf.d/10-fleetlab.conf"
rm -f "$r"/etc/ssh/ssh_host_* "$r/var/lib/dbus/machine-id"
: > "$r/etc/machine-id"
cat > "$r/etc/ssh/sshd_config.d/10-fleetlab.conf" <<'EOS'
HostKey /etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/fleetlab_authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
MaxStartups 100:30:200
EOS
chroot "$r" useradd --create-home --shell /bin/bash deploy
chroot "$r" useradd --create-home --shell /bin/bash ops
echo 'ops:` + LabUserPassword + `' | chroot "$r" chpasswd
echo 'deploy ALL=(ALL) NOPASSWD:ALL' > "$r/etc/sudoers.d/deploy"
echo 'ops ALL=(ALL) ALL' > "$r/etc/sudoers.d/ops"
chmod 0440 "$r/etc/sudoers.d/deploy" "$r/etc/sudoers.d/ops"
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
         e2scrub_reap.service systemd-networkd-wait-online.service; do
  ln -sf /dev/null "$r/etc/systemd/system/$u"
done
rm -rf "$r/var/cache/apt/archives"/*.deb "$r/var/lib/apt/lists"/*
`

// rootfsKey names a root filesystem by everything that goes into it, so a
// changed recipe builds anew instead of reusing a stale cache.
func rootfsKey(suite string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s", suite, strings.Join(rootfsPackages, ","), rootfsHook)
	return suite + "-" + hex.EncodeToString(h.Sum(nil))[:12]
}

// ensureRootfs returns the cached root filesystem for suite, building it once.
// A lock file serialises builders (parallel test packages share the cache) and
// the build lands by rename, so a crashed build never looks complete.
func ensureRootfs(ctx context.Context, c Config, suite string) (string, error) {
	dir := filepath.Join(c.CacheDir, "rootfs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	final := filepath.Join(dir, rootfsKey(suite))
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	// Closing the lock file releases the lock too: the unlock and the
	// close can only fail on a descriptor that is gone already.
	defer func() { _ = lock.Close() }()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if _, err := os.Stat(filepath.Join(final, "usr/lib/systemd/systemd")); err == nil {
		return final, nil
	}
	tmp := final + ".building"
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	c.Logf("building %s root filesystem in %s (once; later labs reuse it)", suite, final)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "mmdebstrap",
		"--variant=minbase",
		"--include="+strings.Join(rootfsPackages, ","),
		"--customize-hook="+rootfsHook,
		suite, tmp)
	out, err := cmd.CombinedOutput()
	if err != nil {
		// The next build removes a leftover first; the mmdebstrap error is the news.
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("mmdebstrap %s: %w\n%s", suite, err, bytesTrim(out))
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	c.Logf("root filesystem built in %.1fs", time.Since(start).Seconds())
	return final, nil
}
