package remote

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		out     string
		want    FileInfo
		wantErr bool
	}{
		{name: "missing", out: "missing\n", want: FileInfo{Path: "/p"}},
		{name: "regular", out: "stat 81a4 root adm 12\nsha256 " + sum + "\n",
			want: FileInfo{Path: "/p", Exists: true, Mode: 0o644, Owner: "root", Group: "adm", Size: 12, SHA256: sum}},
		{name: "setuid", out: "stat 89ed nobody nogroup 0\nsha256 " + sum + "\n",
			want: FileInfo{Path: "/p", Exists: true, Mode: fs.ModeSetuid | 0o755, Owner: "nobody", Group: "nogroup", SHA256: sum}},
		{name: "setgid sticky directory", out: "stat 47ff root root 4096\n",
			want: FileInfo{Path: "/p", Exists: true, Mode: fs.ModeSetgid | fs.ModeSticky | 0o777, Owner: "root", Group: "root", Size: 4096}},
		{name: "numeric owner", out: "stat 8180 UNKNOWN UNKNOWN 5\nsha256 " + sum + "\n",
			want: FileInfo{Path: "/p", Exists: true, Mode: 0o600, Owner: "UNKNOWN", Group: "UNKNOWN", Size: 5, SHA256: sum}},
		{name: "empty", out: "", wantErr: true},
		{name: "no final newline", out: "missing", wantErr: true},
		{name: "missing with extra", out: "missing\nstat 81a4 root root 1\n", wantErr: true},
		{name: "regular without sum", out: "stat 81a4 root root 1\n", wantErr: true},
		{name: "directory with sum", out: "stat 41ed root root 1\nsha256 " + sum + "\n", wantErr: true},
		{name: "short sum", out: "stat 81a4 root root 1\nsha256 abc\n", wantErr: true},
		{name: "uppercase sum", out: "stat 81a4 root root 1\nsha256 " + strings.ToUpper(sum) + "\n", wantErr: true},
		{name: "sum with file name", out: "stat 81a4 root root 1\nsha256 " + sum + "  -\n", wantErr: true},
		{name: "bad mode", out: "stat xyz root root 1\n", wantErr: true},
		{name: "negative size", out: "stat 41ed root root -1\n", wantErr: true},
		{name: "too many fields", out: "stat 41ed root root 1 2\n", wantErr: true},
		{name: "too few fields", out: "stat 41ed root 1\n", wantErr: true},
		{name: "double space", out: "stat 41ed  root 1\n", wantErr: true},
		{name: "error text", out: "stat: cannot statx '/p': Permission denied\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat("/p", []byte(tc.out))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseStat(%q) = %+v, want error", tc.out, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseStat(%q): %v", tc.out, err)
			}
			if got != tc.want {
				t.Errorf("parseStat(%q) = %+v, want %+v", tc.out, got, tc.want)
			}
		})
	}
}

func TestStat(t *testing.T) {
	e := needSSH(t)
	c := e.dial(t)
	ctx := testContext(t)
	dir := t.TempDir()

	content := []byte("hello stat\n")
	sum := sha256.Sum256(content)
	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(regular, fs.ModeSetuid|0o751); err != nil { // Chmod: no umask
		t.Fatal(err)
	}
	if err := os.Chmod(dir, fs.ModeSetgid|0o750); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	owner, group := localOwner(t, dir)
	regularInfo := FileInfo{Exists: true, Mode: fs.ModeSetuid | 0o751, Owner: owner, Group: group,
		Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:])}

	tests := []struct {
		name string
		path string
		want FileInfo
	}{
		{"missing", filepath.Join(dir, "missing"), FileInfo{}},
		{"missing parent", filepath.Join(dir, "no", "such"), FileInfo{}},
		{"below a file", filepath.Join(regular, "x"), FileInfo{}},
		{"dangling symlink", dangling, FileInfo{}},
		{"regular", regular, regularInfo},
		{"symlink followed", link, regularInfo},
		{"directory", dir, FileInfo{Exists: true, Mode: fs.ModeSetgid | 0o750, Owner: owner, Group: group, Size: dirSize(t, dir)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Stat(ctx, tc.path)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			tc.want.Path = tc.path
			if got != tc.want {
				t.Errorf("Stat(%q) = %+v, want %+v", tc.path, got, tc.want)
			}
		})
	}
}
