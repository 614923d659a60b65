package main

import (
	"os/exec"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		s := []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"}}
		for pair := range slices.Chunk(kv, 2) {
			s = append(s, debug.BuildSetting{Key: pair[0], Value: pair[1]})
		}
		return s
	}
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"stamped", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201123729-55e1696b2ece"},
			Settings: settings("vcs", "git", "vcs.revision", "55e1696b2ece43211fc1e4f37dbd10f30fb1c798", "vcs.time", "2026-12-01T12:37:29Z", "vcs.modified", "false")},
			"fleetfix v0.0.0-20261201123729-55e1696b2ece\nrevision: 55e1696b2ece43211fc1e4f37dbd10f30fb1c798\ncommit time: 2026-12-01T12:37:29Z\ngo: go1.26.8 linux/arm64"},
		{"modified", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201123729-55e1696b2ece+dirty"},
			Settings: settings("vcs.revision", "55e1696b2ece43211fc1e4f37dbd10f30fb1c798", "vcs.time", "2026-12-01T12:37:29Z", "vcs.modified", "true")},
			"fleetfix v0.0.0-20261201123729-55e1696b2ece+dirty\nrevision: 55e1696b2ece43211fc1e4f37dbd10f30fb1c798 (modified)\ncommit time: 2026-12-01T12:37:29Z\ngo: go1.26.8 linux/arm64"},
		{"not stamped", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: settings()},
			"fleetfix (devel)\nrevision: unknown (built without VCS stamping)\ngo: go1.26.8 linux/arm64"},
	}
	for _, tt := range tests {
		if got := versionText(&tt.bi); got != tt.want {
			t.Errorf("%s:\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

// --version and version print the same, and say what the go command reads
// from the binary: the module version and the VCS revision, if stamped.
func TestVersionOutput(t *testing.T) {
	out, err := exec.Command("go", "version", "-m", binary).Output()
	if err != nil {
		t.Fatal(err)
	}
	mod, rev := "", ""
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			mod = f[2]
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			rev = strings.TrimPrefix(f[1], "vcs.revision=")
		}
	}
	wantRev := "revision: unknown"
	if rev != "" {
		wantRev = "revision: " + rev
	}
	flag, _, code1 := fleetfix(t, nil, "--version")
	cmd, _, code2 := fleetfix(t, nil, "version")
	if code1 != 0 || code2 != 0 || flag != cmd {
		t.Fatalf("--version (exit %d):\n%s\nversion (exit %d):\n%s", code1, flag, code2, cmd)
	}
	if !strings.HasPrefix(flag, "fleetfix "+mod+"\n") || !strings.Contains(flag, "\n"+wantRev) {
		t.Errorf("version output:\n%s\nwant the module version %q and %q (go version -m:\n%s)", flag, mod, wantRev, out)
	}
}
