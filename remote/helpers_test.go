package remote

import (
	"context"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"testing"
)

// localOwner returns the user and group names owning path on this machine,
// which is also the test "host".
func localOwner(t *testing.T, path string) (string, string) {
	t.Helper()
	st := localStat(t, path)
	u, err := user.LookupId(strconv.Itoa(int(st.Uid)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(strconv.Itoa(int(st.Gid)))
	if err != nil {
		t.Fatal(err)
	}
	return u.Username, g.Name
}

func localStat(t *testing.T, path string) *syscall.Stat_t {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t)
}

func dirSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(testContext(t))
	t.Cleanup(cancel)
	return ctx, cancel
}
