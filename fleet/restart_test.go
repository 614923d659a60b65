package fleet

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/inventory"
)

// restartCapture is the journal of a lab host's restart of the buggy build
// (journal/testdata's restart-then-reboot, its restart job's records): the
// old process SIGKILLed after the 5 s stop timeout.
func restartCapture(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "journal", "testdata", "restart-then-reboot.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for line := range strings.Lines(string(data)) {
		if strings.Contains(line, `"bdab5d870f0d4ddfbad507e3c61c71e2"`) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// restartHost is a host for restart's tests: two units, whose restart
// script answers out.
func restartRun(t *testing.T, order string, h *scriptedHost) (*hostRun, string, error) {
	t.Helper()
	inv := &inventory.Inventory{Rollout: inventory.DefaultPolicy(), Services: []inventory.Service{
		{Unit: "smart-proxy.service", Restart: inventory.Restart{OldStopTimeout: time.Second}, Health: inventory.Health{Timeout: 15 * time.Second}},
		{Unit: "rule-proxy.service", Health: inventory.Health{Timeout: 15 * time.Second}},
	}}
	inv.Rollout.Restart = order
	r := &runner{opts: Options{Inventory: inv}, rep: ReporterFunc(func(Event) {})}
	hr := &hostRun{r: r, ctx: context.Background(), h: h, t: inventory.Target{Name: h.name}, give: r.share(h.name)}
	msg, err := hr.restart(context.Background())
	return hr, msg, err
}

func TestRestartTogetherBoundsTheOldBuild(t *testing.T) {
	h := &scriptedHost{name: "h1", answers: map[string]answer{
		"restart":         ok("inflight 0 2\ninflight 1 0\nsince 1795557828.400000\nkilled 0 100\nstopped 1 3\n"),
		"health":          ok(""),
		"restart-journal": ok(restartCapture(t)),
	}}
	hr, msg, err := restartRun(t, inventory.RestartTogether, h)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.received(); !slices.Equal(got, []string{"restart", "health", "health", "restart-journal"}) {
		t.Errorf("host received %v: want one restart for both units", got)
	}
	if args := h.calls[0].args; !slices.Equal(args, []string{"2", "smart-proxy.service", "100", "rule-proxy.service", "0"}) {
		t.Errorf("restart args %q", args)
	}
	if args := h.calls[3].args; args[0] != "@1795557828.400000" {
		t.Errorf("journal read from %q, want the restart's own clock", args[0])
	}
	if !strings.Contains(msg, "smart-proxy.service active and healthy in ") || !strings.Contains(msg, "old build SIGKILLed by fleetfix after 1s") ||
		strings.Count(msg, "SIGKILLed") != 1 {
		t.Errorf("message %q", msg)
	}
	sp, rp := hr.rst.old["smart-proxy.service"], hr.rst.old["rule-proxy.service"]
	if sp.stop == nil || !sp.stop.Killed || sp.stop.Duration != 5050816*time.Microsecond || sp.inFlight == nil || *sp.inFlight != 2 {
		t.Errorf("smart-proxy's old stop %+v in flight %v", sp.stop, sp.inFlight)
	}
	if rp.stop != nil || !strings.Contains(rp.note, "not running") || rp.inFlight == nil || *rp.inFlight != 0 {
		t.Errorf("rule-proxy's old stop %+v %q", rp.stop, rp.note)
	}
}

func TestRestartSequentialOneUnitAtATime(t *testing.T) {
	h := &scriptedHost{name: "h1", answers: map[string]answer{
		"restart":         ok("since 1795557828.400000\nstopped 0 1\n"),
		"health":          ok(""),
		"restart-journal": ok(""),
	}}
	_, _, err := restartRun(t, inventory.RestartSequential, h)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"restart", "health", "restart-journal", "restart", "health", "restart-journal"}
	if got := h.received(); !slices.Equal(got, want) {
		t.Errorf("host received %v, want %v", got, want)
	}
}

func TestRestartFailures(t *testing.T) {
	tests := []struct {
		name    string
		answers map[string]answer
		want    string
	}{
		{"the new build does not start",
			map[string]answer{"restart": ok("since 1.0\n"), "health": fails("unit failed (exit 1)\n", 1)},
			"smart-proxy.service not healthy 15s after start: unit failed (exit 1)"},
		{"systemctl restart refuses",
			map[string]answer{"restart": fails("Unit x.service not found.", 3)},
			"restart smart-proxy.service rule-proxy.service: "},
		{"an answer the script never gives",
			map[string]answer{"restart": ok("inflight 7 1\n")},
			`unexpected line "inflight 7 1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := restartRun(t, inventory.RestartTogether, &scriptedHost{name: "h1", answers: tt.answers})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q in it", err, tt.want)
			}
		})
	}
}

func TestStopBound(t *testing.T) {
	hr := &hostRun{facts: &Facts{Units: []UnitRecord{{Unit: "b.service", Props: map[string]string{"TimeoutStopUSec": "1min 30s"}}}}}
	hr.rst.noteStopTimeout("c.service", map[string]string{"TimeoutStopUSec": "20s"})
	hr.rst.noteStopTimeout("d.service", map[string]string{"TimeoutStopUSec": "infinity"})
	tests := []struct {
		svc  inventory.Service
		want time.Duration
	}{
		{inventory.Service{Unit: "a.service", Restart: inventory.Restart{OldStopTimeout: time.Second}}, time.Second},
		{inventory.Service{Unit: "b.service"}, 90 * time.Second},
		{inventory.Service{Unit: "c.service"}, 20 * time.Second},
		{inventory.Service{Unit: "d.service"}, 90 * time.Second},
	}
	for _, tt := range tests {
		if got := hr.stopBound(tt.svc); got != tt.want {
			t.Errorf("stopBound(%s) = %s, want %s", tt.svc.Unit, got, tt.want)
		}
	}
}

// A plan says how the restart treats each old build: the bound set, or a
// suggestion of one when the journal shows the running build SIGKILLed.
func TestPlanRestartShowsOrSuggestsTheBound(t *testing.T) {
	buggy, err := os.ReadFile(filepath.Join("..", "journal", "testdata", "buggy-reboot.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		lastStep Step
		restart  inventory.Restart
		want     string
	}{
		{"a bound is shown", StepDropIn, inventory.Restart{OldStopTimeout: time.Second},
			"smart-proxy.service: at the restart the old build is SIGKILLed if still stopping after 1s (restart.old_stop_timeout)"},
		{"a SIGKILLed build gets a suggestion", StepDropIn, inventory.Restart{},
			"smart-proxy.service: the running build was SIGKILLed at its last stop (5.03s, SIGKILLed); the restart will wait up to 20s for it: set services[].restart.old_stop_timeout (e.g. 1s) to bound it"},
		{"a rollout says nothing", "", inventory.Restart{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := inventory.Service{Unit: "smart-proxy.service", Restart: tt.restart, DropIn: inventory.DefaultDropIn()}
			inv := &inventory.Inventory{Rollout: inventory.DefaultPolicy(), Services: []inventory.Service{svc}}
			rec := &recorder{}
			r := &runner{opts: Options{Inventory: inv, LastStep: tt.lastStep}, rep: rec}
			h := &scriptedHost{name: "h1", answers: map[string]answer{"journal": ok(string(buggy))}}
			hr := &hostRun{r: r, h: h, t: inventory.Target{Name: "h1"}, give: r.share("h1"), facts: &Facts{PersistentJournal: true}}
			hr.planRestart(context.Background())
			var got []string
			for _, e := range rec.events {
				got = append(got, e.Message)
			}
			if strings.Join(got, "\n") != tt.want {
				t.Errorf("info %q, want %q", got, tt.want)
			}
		})
	}
}
