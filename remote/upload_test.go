package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestCheckDst(t *testing.T) {
	tests := []struct {
		dst string
		ok  bool
	}{
		{"/etc/app/app.conf", true},
		{"/usr/local/bin/app", true},
		{"/a b/c'd", true},
		{"", false},
		{"relative/path", false},
		{"app", false},
		{"/etc/../etc/passwd", false},
		{"/etc//passwd", false},
		{"/etc/app/", false},
		{"/etc/./app", false},
		{"/", false},
		{"/a\x00b", false},
	}
	for _, tc := range tests {
		if err := checkDst(tc.dst); (err == nil) != tc.ok {
			t.Errorf("checkDst(%q) = %v, want ok=%v", tc.dst, err, tc.ok)
		}
	}
}

func TestValidOwner(t *testing.T) {
	tests := []struct {
		owner string
		ok    bool
	}{
		{"root", true},
		{"nobody:nogroup", true},
		{"www-data:www-data", true},
		{"1000:1000", true},
		{"svc_app.x", true},
		{"MACHINE$", true},
		{"", false},
		{":group", false},
		{"user:", false},
		{"-rf", false},
		{"user:-g", false},
		{"a b", false},
		{"a:b:c", false},
		{"$(id)", false},
		{"user\n", false},
		{".hidden", false},
	}
	for _, tc := range tests {
		if got := validOwner(tc.owner); got != tc.ok {
			t.Errorf("validOwner(%q) = %v, want %v", tc.owner, got, tc.ok)
		}
	}
}

func TestTempName(t *testing.T) {
	long := strings.Repeat("x", 300)
	tag := strings.Repeat("t", maxTempTag)
	tests := []struct {
		base, tag, want string
	}{
		{"app", "", ".app.fleetfix-tmp-0123456789abcdef"},
		{".env", "", "..env.fleetfix-tmp-0123456789abcdef"},
		{long, "", "." + long[:maxTempBase] + ".fleetfix-tmp-0123456789abcdef"},
		{"app", "20261201_081502", ".app.fleetfix-tmp-20261201_081502-0123456789abcdef"},
		{long, tag, "." + long[:maxTempBase] + ".fleetfix-tmp-" + tag + "-0123456789abcdef"},
	}
	for _, tc := range tests {
		got := tempName(tc.base, tc.tag, "0123456789abcdef")
		if got != tc.want {
			t.Errorf("tempName(%q) = %q, want %q", tc.base, got, tc.want)
		}
		if len(got) > 255 {
			t.Errorf("tempName(%q) is %d bytes, over NAME_MAX", tc.base, len(got))
		}
	}
}

func TestValidTempTag(t *testing.T) {
	for tag, want := range map[string]bool{
		"": true, "20261201_081502": true, strings.Repeat("a", maxTempTag): true,
		strings.Repeat("a", maxTempTag+1): false, "a-b": false, "a*": false, "a b": false, "../x": false,
	} {
		if got := validTempTag(tag); got != want {
			t.Errorf("validTempTag(%q) = %v, want %v", tag, got, want)
		}
	}
}

func TestUnixPerm(t *testing.T) {
	tests := []struct {
		mode    fs.FileMode
		want    uint32
		wantErr bool
	}{
		{0o644, 0o644, false},
		{0o755, 0o755, false},
		{fs.ModeSetuid | 0o755, 0o4755, false},
		{fs.ModeSetgid | fs.ModeSticky | 0o770, 0o3770, false},
		{0o4755, 0o4755, false}, // raw octal bits accepted too
		{fs.ModeDir | 0o755, 0, true},
		{fs.ModeSymlink | 0o777, 0, true},
		{fs.ModeAppend | 0o644, 0, true},
	}
	for _, tc := range tests {
		got, err := unixPerm(tc.mode)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("unixPerm(%v) = %o, %v; want %o, err=%v", tc.mode, got, err, tc.want, tc.wantErr)
		}
		if err == nil && goMode(got) != goMode(uint32(tc.mode)&0o777|got&0o7000) {
			t.Errorf("goMode(unixPerm(%v)) does not round trip", tc.mode)
		}
	}
	if goMode(0o104755) != fs.ModeSetuid|0o755 {
		t.Errorf("goMode(0o104755) = %v", goMode(0o104755))
	}
}

func TestUpload(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	ctx := testContext(t)
	if os.Geteuid() != 0 {
		t.Skip("chown to other users needs a root login")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	nogroup, err := user.LookupGroup("nogroup")
	if err != nil {
		t.Skip("no group nogroup")
	}
	random := make([]byte, 3<<20+17) // several SFTP packets, not a multiple
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	tests := []uploadCase{
		{name: "new file root owned", content: []byte("hello\n"), mode: 0o644, wantPerm: 0o644, wantUID: "0", wantGID: "0"},
		{name: "owner and group", content: []byte("secret"), mode: 0o640, owner: "nobody:nogroup", wantPerm: 0o640, wantUID: nobody.Uid, wantGID: nogroup.Gid},
		{name: "owner only", content: []byte("x"), mode: 0o600, owner: "nobody", wantPerm: 0o600, wantUID: nobody.Uid, wantGID: "0"},
		{name: "setuid survives chown", content: []byte("#!/bin/sh\n"), mode: fs.ModeSetuid | 0o755, owner: "nobody:nogroup",
			wantPerm: 0o4755, wantUID: nobody.Uid, wantGID: nogroup.Gid},
		{name: "replace existing", content: []byte("new"), mode: 0o600, wantPerm: 0o600, wantUID: "0", wantGID: "0", preexists: true},
		{name: "empty", content: nil, mode: 0o644, wantPerm: 0o644, wantUID: "0", wantGID: "0"},
		{name: "large", content: random, mode: 0o644, wantPerm: 0o644, wantUID: "0", wantGID: "0"},
		// Up to inlineMax the content goes on stdin, above it over SFTP.
		{name: "largest sent inline", content: random[:inlineMax], mode: 0o640, owner: "nobody", wantPerm: 0o640, wantUID: nobody.Uid, wantGID: "0"},
		{name: "smallest sent over SFTP", content: random[:inlineMax+1], mode: 0o640, owner: "nobody", wantPerm: 0o640, wantUID: nobody.Uid, wantGID: "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkUpload(ctx, t, c, tc) })
	}
}

// uploadCase is a file to upload and the mode and owner it must end with.
type uploadCase struct {
	name      string
	content   []byte
	mode      fs.FileMode
	owner     string
	wantPerm  uint32
	wantUID   string
	wantGID   string
	preexists bool
}

// checkUpload uploads tc's file through c and checks its content, mode and
// owner, what Stat says of it, and that Stat's mode uploads to the same.
func checkUpload(ctx context.Context, t *testing.T, c *Client, tc uploadCase) {
	t.Helper()
	dir := t.TempDir()
	dst := filepath.Join(dir, "target file")
	if tc.preexists {
		if err := os.WriteFile(dst, []byte("old content, longer than the new"), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := c.Upload(ctx, bytes.NewReader(tc.content), dst, tc.mode, tc.owner)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	want := sha256.Sum256(tc.content)
	if sum != hex.EncodeToString(want[:]) {
		t.Errorf("returned sha256 %s, want %x", sum, want)
	}
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, tc.content) {
		t.Fatalf("content differs (%d bytes, %v)", len(got), err)
	}
	st := localStat(t, dst)
	if perm := st.Mode & 0o7777; perm != tc.wantPerm {
		t.Errorf("mode %o, want %o", perm, tc.wantPerm)
	}
	if uid, gid := strconv.Itoa(int(st.Uid)), strconv.Itoa(int(st.Gid)); uid != tc.wantUID || gid != tc.wantGID {
		t.Errorf("owner %s:%s, want %s:%s", uid, gid, tc.wantUID, tc.wantGID)
	}
	assertOnlyEntries(t, dir, "target file")

	fi, err := c.Stat(ctx, dst)
	if err != nil || fi.SHA256 != sum || fi.Size != int64(len(tc.content)) || fi.Mode != goMode(tc.wantPerm) {
		t.Errorf("Stat = %+v, %v", fi, err)
	}
	// FileInfo.Mode fed back to Upload gives the same mode.
	if _, err := c.Upload(ctx, bytes.NewReader(tc.content), dst, fi.Mode, tc.owner); err != nil {
		t.Fatal(err)
	}
	if perm := localStat(t, dst).Mode & 0o7777; perm != tc.wantPerm {
		t.Errorf("mode %o after re-upload with FileInfo.Mode, want %o", perm, tc.wantPerm)
	}
}

// assertOnlyEntries fails if dir holds anything but names, e.g. a temporary
// file left by Upload.
func assertOnlyEntries(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, "\x00") != strings.Join(names, "\x00") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

// TestUploadAtomic reads the destination continuously while it is being
// replaced and checks every read saw one complete version.
func TestUploadAtomic(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	ctx := testContext(t)
	dir := t.TempDir()
	dst := filepath.Join(dir, "data")
	versions := make([][]byte, 4)
	valid := map[[32]byte]bool{}
	for i := range versions {
		versions[i] = bytes.Repeat([]byte{byte('a' + i)}, (1<<20)+i*4099)
		valid[sha256.Sum256(versions[i])] = true
	}
	if err := os.WriteFile(dst, versions[0], 0o644); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads, bad int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			b, err := os.ReadFile(dst)
			reads++
			if err != nil || !valid[sha256.Sum256(b)] {
				bad++
			}
		}
	}()
	for round := 0; round < 3; round++ {
		for _, v := range versions[1:] {
			if _, err := c.Upload(ctx, bytes.NewReader(v), dst, 0o644, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	if bad > 0 {
		t.Errorf("%d of %d reads saw a missing or partial file", bad, reads)
	}
	if reads < 10 {
		t.Errorf("only %d concurrent reads; the test proved little", reads)
	}
	assertOnlyEntries(t, dir, "data")
}

// TestUploadReplacesRunningBinary replaces an executable while it runs,
// which writing into the file would fail with ETXTBSY.
func TestUploadReplacesRunningBinary(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	ctx := testContext(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "sleeper")
	orig, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Skip("no /bin/sleep")
	}
	if err := os.WriteFile(bin, orig, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	time.Sleep(100 * time.Millisecond) // let it exec
	if f, err := os.OpenFile(bin, os.O_WRONLY, 0); err == nil {
		f.Close()
		t.Log("this kernel allows writing a running binary; ETXTBSY premise not checkable")
	} else if !errors.Is(err, syscall.ETXTBSY) {
		t.Fatalf("open running binary for writing: %v", err)
	}

	newBin, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("no /bin/true")
	}
	if _, err := c.Upload(ctx, bytes.NewReader(newBin), bin, 0o755, ""); err != nil {
		t.Fatalf("Upload over running binary: %v", err)
	}
	if got, _ := os.ReadFile(bin); !bytes.Equal(got, newBin) {
		t.Error("binary not replaced")
	}
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("running process died: %v", err)
	}
	if err := exec.Command(bin).Run(); err != nil {
		t.Errorf("new binary does not run: %v", err)
	}
	assertOnlyEntries(t, dir, "sleeper")
}

func TestUploadRejects(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	ctx := testContext(t)
	dir := t.TempDir()
	tests := []struct {
		name  string
		dst   string
		mode  fs.FileMode
		owner string
		want  string
	}{
		{"relative", "relative/file", 0o644, "", "absolute"},
		{"dot dot", dir + "/../x", 0o644, "", "clean"},
		{"trailing slash", dir + "/x/", 0o644, "", "clean"},
		{"root", "/", 0o644, "", "root directory"},
		{"option owner", dir + "/x", 0o644, "-R", "invalid owner"},
		{"injected owner", dir + "/x", 0o644, "root;id", "invalid owner"},
		{"directory mode", dir + "/x", fs.ModeDir | 0o755, "", "only permission"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			read := false
			r := readFunc(func([]byte) (int, error) { read = true; return 0, io.EOF })
			_, err := c.Upload(ctx, r, tc.dst, tc.mode, tc.owner)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "upload") {
				t.Errorf("Upload(%q) error %v, want one containing %q", tc.dst, err, tc.want)
			}
			if read {
				t.Error("reader was read before validation")
			}
		})
	}
	assertOnlyEntries(t, dir)
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

// TestUploadFailureCleansUp checks that a failed upload leaves dst as it was
// and no temporary file behind, including when ctx is cancelled mid-stream.
func TestUploadFailureCleansUp(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	dir := t.TempDir()
	dst := filepath.Join(dir, "conf")
	old := []byte("old")
	if err := os.WriteFile(dst, old, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}

	t.Run("unknown owner", func(t *testing.T) {
		_, err := c.Upload(testContext(t), strings.NewReader("new"), dst, 0o644, "no-such-user-fleetfix")
		var ee *ExitError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), "no-such-user-fleetfix") {
			t.Fatalf("Upload error %v, want *ExitError naming the owner", err)
		}
	})
	t.Run("destination is a directory", func(t *testing.T) {
		_, err := c.Upload(testContext(t), strings.NewReader("new"), filepath.Join(dir, "adir"), 0o644, "")
		if err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("Upload error %v, want 'is a directory'", err)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		_, err := c.Upload(testContext(t), strings.NewReader("new"), filepath.Join(dir, "nodir", "f"), 0o644, "")
		if err == nil || !strings.Contains(err.Error(), "target") {
			t.Fatalf("Upload error %v, want one naming the host", err)
		}
	})
	t.Run("reader fails", func(t *testing.T) {
		r := io.MultiReader(strings.NewReader("partial"), readFunc(func([]byte) (int, error) {
			return 0, errors.New("disk on fire")
		}))
		_, err := c.Upload(testContext(t), r, dst, 0o644, "")
		if err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Fatalf("Upload error %v", err)
		}
	})
	t.Run("context cancelled mid-stream", func(t *testing.T) {
		ctx, cancel := contextWithCancel(t)
		r := io.MultiReader(strings.NewReader("partial"), readFunc(func([]byte) (int, error) {
			cancel()
			return 0, nil
		}), strings.NewReader("more"))
		_, err := c.Upload(ctx, r, dst, 0o644, "")
		if err == nil {
			t.Fatal("Upload succeeded after cancel")
		}
	})
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, old) {
		t.Errorf("dst changed to %q by failed uploads", got)
	}
	assertOnlyEntries(t, dir, "adir", "conf")
	assertOnlyEntries(t, filepath.Join(dir, "adir"))
}
