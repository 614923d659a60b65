package labtest

import (
	"flag"
	"runtime"
	"testing"
)

// tb records whether Need skipped or failed, and stops the goroutine there
// as the real ones do.
type tb struct {
	testing.TB
	skipped, failed bool
}

func (f *tb) Helper()      {}
func (f *tb) Skip(...any)  { f.skipped = true; runtime.Goexit() }
func (f *tb) Fatal(...any) { f.failed = true; runtime.Goexit() }

// need runs Need on a goroutine of its own, which Skip and Fatal end.
func need(f *tb) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		Need(f, nil)
	}()
	<-done
}

// short sets -test.short for one test.
func short(t *testing.T, on bool) {
	t.Helper()
	was := flag.Lookup("test.short").Value.String()
	set := func(v string) {
		if err := flag.Set("test.short", v); err != nil {
			t.Fatal(err)
		}
	}
	if on {
		set("true")
	} else {
		set("false")
	}
	t.Cleanup(func() { set(was) })
}

func TestNeedWithoutLab(t *testing.T) {
	tests := []struct {
		name           string
		short, noLab   bool
		required       bool
		wantSkip, fail bool
	}{
		{name: "short skips", short: true, wantSkip: true},
		{name: "short skips even where the lab is required", short: true, required: true, wantSkip: true},
		{name: "no-lab env skips", noLab: true, wantSkip: true},
		{name: "no-lab env fails where the lab is required", noLab: true, required: true, fail: true},
		{name: "a lab that cannot run fails where required", required: true, fail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			short(t, tt.short)
			t.Setenv(NoLabEnv, "")
			if tt.noLab {
				t.Setenv(NoLabEnv, "1")
			}
			t.Setenv(RequireEnv, "")
			if tt.required {
				t.Setenv(RequireEnv, "1")
			}
			f := &tb{}
			need(f)
			if f.skipped != tt.wantSkip || f.failed != tt.fail {
				t.Errorf("Need: skipped %v, failed %v; want %v, %v", f.skipped, f.failed, tt.wantSkip, tt.fail)
			}
		})
	}
}

func TestUnwanted(t *testing.T) {
	tests := []struct {
		short, noLab bool
		want         string
	}{
		{short: true, want: "-short"},
		{short: true, noLab: true, want: "-short"},
		{noLab: true, want: NoLabEnv + " is set"},
		{want: ""},
	}
	for _, tt := range tests {
		short(t, tt.short)
		t.Setenv(NoLabEnv, "")
		if tt.noLab {
			t.Setenv(NoLabEnv, "1")
		}
		if got := unwanted(); got != tt.want {
			t.Errorf("short %v, %s %v: unwanted() = %q, want %q", tt.short, NoLabEnv, tt.noLab, got, tt.want)
		}
	}
}
