// Command fleetbench measures fleetfix on a lab fleet (fleetfix lab) against
// the same rollout done by Ansible, and prints a table. It never fails on
// speed: it fails only when it cannot measure (a lab that will not come up,
// hosts it cannot put back in the starting state).
//
// For each lab size (ascending) it brings the lab up to that many hosts
// (fleetfix lab up with its own state directory, bridge and subnet), then:
//
//   - rollout N: the full rollout with reboot, canary 1 then the rest at once
//     (max_parallel = N), by fleetfix (`rollout -o json`) and, up to
//     -ansible-max hosts, by ansible-playbook (bench/ansible/rollout.yml:
//     serial [1, "100%"], forks = N, pipelining), alternating which goes
//     first, -runs times each, every run from the same starting state
//     (fleetfix rollback --all, or bench/ansible/restore.yml after Ansible;
//     then verified on every host);
//   - scan N: the lab is cycled (down, up) so every host's journal holds a
//     shutdown with the buggy service SIGKILLed, then `fleetfix scan -o json`,
//     -runs times; with -profile, bench/cmd/fleetprof scans once more under
//     pprof.
//
// -stub-scan N needs no lab: it scans N SSH servers of its own that answer
// as lab hosts do for almost no CPU (see stub.go), the controller's cost
// when the hosts are not the bottleneck.
//
// Host-side times come from each host's journal (see journal.go); the
// controller's CPU and memory from its rusage (see measure.go).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
)

type config struct {
	fleetfix, fleetprof      string
	stateDir, bridge, subnet string
	stopTimeout, dropinStop  string
	batch, oldStop, confirm  string
	rollout, scan, stubScan  []int
	stubBastion              []int
	bastionLimit             int
	stubJournal              string
	runs, scanRuns           int
	maxParallel              int
	ansibleMax               int
	ansibleDir               string
	out                      string
	destroy, cycle, profile  bool
	stubSSHConfig            bool
}

// labCgroups is a glob of the lab hosts' cgroup2 directories: the lab runs
// each host in its own cgroup, fleetlab/<bridge>-<host>.
func (c config) labCgroups() string {
	return "/sys/fs/cgroup/unified/fleetlab/" + c.bridge + "-h*"
}

func main() {
	var c config
	var rollout, scan, stubScan, stubBastion string
	flag.StringVar(&c.fleetfix, "fleetfix", "bin/fleetfix", "fleetfix binary to measure")
	flag.StringVar(&c.fleetprof, "fleetprof", "", "fleetprof binary (bench/cmd/fleetprof) for -profile")
	flag.StringVar(&c.stateDir, "state-dir", "/var/lib/fleetfix/bench", "lab state directory (a lab of fleetbench's own)")
	flag.StringVar(&c.bridge, "bridge", "ffb", "lab bridge")
	flag.StringVar(&c.subnet, "subnet", "10.80.0.0/16", "lab subnet")
	flag.StringVar(&c.stopTimeout, "stop-timeout", "5s", "lab up --stop-timeout: the buggy service's TimeoutStopSec before the fix")
	flag.StringVar(&c.dropinStop, "dropin-timeout", "5s", "TimeoutStopSec of the drop-in both tools install (the real fix uses 20s); the restart of the buggy build waits it out")
	flag.StringVar(&c.batch, "batch", "", "hosts per batch after the canary (fleetfix's rollout.batch); empty: every other host at once")
	flag.StringVar(&c.oldStop, "old-stop-timeout", "", "every service's restart.old_stop_timeout (fleetfix only): the old build's stop at the restart is SIGKILLed past it; empty: none, the restart waits out the drop-in's TimeoutStopSec")
	flag.StringVar(&c.confirm, "confirm-timeout", "", "rollout.confirm_timeout (fleetfix only; 0s disables the guard installed before the reboot); empty: fleetfix's default")
	flag.StringVar(&rollout, "rollout", "10", "lab sizes to benchmark the rollout at, comma-separated (empty: none)")
	flag.StringVar(&scan, "scan", "", "lab sizes to benchmark fleetfix scan at, comma-separated, e.g. 10,100,500")
	flag.StringVar(&stubScan, "stub-scan", "", "sizes of a fleet of stub SSH hosts in this process to scan, e.g. 100,500: the controller's cost when the hosts are not the bottleneck (no lab needed)")
	flag.StringVar(&stubBastion, "stub-bastion", "", "sizes of a fleet of stub SSH hosts behind one stub bastion to scan, e.g. 1000: the bastion drops handshakes beyond -stub-bastion-limit, as sshd's MaxStartups does (no lab needed)")
	flag.IntVar(&c.bastionLimit, "stub-bastion-limit", 10, "unauthenticated connections the stub bastion holds at once; it drops the others (OpenSSH's MaxStartups 10:30:100 starts dropping beyond 10)")
	flag.StringVar(&c.stubJournal, "stub-journal", "journal/testdata/buggy-reboot.jsonl", "journal query output the stub hosts serve (a capture from a lab host)")
	flag.BoolVar(&c.stubSSHConfig, "stub-ssh-config", true, "stub scan: read an operator-like ssh_config (fleetfix -F; Host * and a few patterns); false: --no-ssh-config")
	flag.IntVar(&c.runs, "runs", 3, "rollout runs per tool and size (alternating which tool goes first)")
	flag.IntVar(&c.scanRuns, "scan-runs", 3, "scan runs per size")
	flag.IntVar(&c.maxParallel, "max-parallel", 0, "hosts worked on at once after the canary (fleetfix max_parallel, Ansible forks); 0: the whole fleet")
	flag.IntVar(&c.ansibleMax, "ansible-max", 10, "largest fleet Ansible is run on (0: never)")
	flag.StringVar(&c.ansibleDir, "ansible-dir", "bench/ansible", "directory of rollout.yml and restore.yml")
	flag.StringVar(&c.out, "out", "", "directory for raw outputs and results.json (default /tmp/fleetbench-TIME)")
	flag.BoolVar(&c.destroy, "destroy", false, "lab destroy when done")
	flag.BoolVar(&c.cycle, "cycle", true, "before a scan, cycle the lab (down, up) so every journal holds a shutdown")
	flag.BoolVar(&c.profile, "profile", false, "profile the largest scan with -fleetprof (CPU and heap pprof files in -out)")
	flag.Parse()
	var err error
	if c.rollout, err = sizes(rollout); err == nil {
		if c.scan, err = sizes(scan); err == nil {
			if c.stubScan, err = sizes(stubScan); err == nil {
				c.stubBastion, err = sizes(stubBastion)
			}
		}
	}
	if err != nil {
		fatal(err)
	}
	if c.out == "" {
		c.out = "/tmp/fleetbench-" + time.Now().Format("20060102-150405")
	}
	for _, p := range []*string{&c.fleetfix, &c.fleetprof, &c.ansibleDir, &c.out, &c.stubJournal} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				fatal(err)
			}
		}
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{c: c, res: &Results{Started: time.Now(), Config: c.describe()}}
	err = b.run(ctx)
	b.res.Finished = time.Now()
	if j, jerr := json.MarshalIndent(b.res, "", "  "); jerr == nil {
		if werr := os.WriteFile(filepath.Join(c.out, "results.json"), j, 0o644); werr != nil {
			fmt.Fprintln(os.Stderr, "fleetbench:", werr)
		}
	}
	b.print(os.Stdout)
	if c.destroy {
		logf("lab destroy")
		if derr := runQuiet(context.Background(), b.log(), b.labArgs("destroy")...); derr != nil {
			logf("%v", derr)
		}
	}
	if err != nil {
		fatal(err)
	}
}

func sizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 2 {
			return nil, fmt.Errorf("size %q: want a number of hosts >= 2", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "fleetbench:", err)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fleetbench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (c config) describe() map[string]string {
	return map[string]string{
		"fleetfix": c.fleetfix, "lab": fmt.Sprintf("%s bridge %s subnet %s", c.stateDir, c.bridge, c.subnet),
		"lab_stop_timeout": c.stopTimeout, "dropin_timeout_stop_sec": c.dropinStop, "batch": c.batch, "old_stop_timeout": c.oldStop, "confirm_timeout": c.confirm,
		"runs": strconv.Itoa(c.runs), "ansible_max": strconv.Itoa(c.ansibleMax), "max_parallel": strconv.Itoa(c.maxParallel),
		"cmdline": strings.Join(os.Args, " "),
	}
}

type bench struct {
	c   config
	res *Results
}

func (b *bench) log() string { return filepath.Join(b.c.out, "commands.log") }

func (b *bench) labArgs(sub string, extra ...string) []string {
	a := []string{b.c.fleetfix, "lab", sub, "--state-dir", b.c.stateDir, "--bridge", b.c.bridge, "--subnet", b.c.subnet}
	return append(a, extra...)
}

func (b *bench) labUp(ctx context.Context, n int) (time.Duration, error) {
	t0 := time.Now()
	err := runQuiet(ctx, b.log(), b.labArgs("up", "--hosts", strconv.Itoa(n), "--stop-timeout", b.c.stopTimeout)...)
	return time.Since(t0), err
}

func (b *bench) run(ctx context.Context) error {
	all := slices.Clone(b.c.rollout)
	all = append(all, b.c.scan...)
	slices.Sort(all)
	all = slices.Compact(all)
	if len(all) == 0 && len(b.c.stubScan) == 0 && len(b.c.stubBastion) == 0 {
		return errors.New("nothing to do: give -rollout, -scan, -stub-scan and/or -stub-bastion sizes")
	}
	if _, err := os.Stat(b.c.fleetfix); err != nil {
		return fmt.Errorf("fleetfix binary: %w (build it: go build -o bin/fleetfix ./cmd/fleetfix)", err)
	}
	for _, n := range b.c.stubScan {
		if err := b.stubScanBench(ctx, n); err != nil {
			return fmt.Errorf("stub scan at %d hosts: %w", n, err)
		}
	}
	for _, n := range b.c.stubBastion {
		if err := b.stubBastionBench(ctx, n); err != nil {
			return fmt.Errorf("stub bastion scan at %d hosts: %w", n, err)
		}
	}
	for _, n := range all {
		logf("lab up --hosts %d", n)
		d, err := b.labUp(ctx, n)
		b.res.Labs = append(b.res.Labs, LabStep{Hosts: n, Step: "up", Duration: d, Err: errString(err)})
		if err != nil {
			return err
		}
		logf("lab of %d hosts up in %.1fs", n, d.Seconds())
		if slices.Contains(b.c.rollout, n) {
			if err := b.rolloutBench(ctx, n); err != nil {
				return fmt.Errorf("rollout at %d hosts: %w", n, err)
			}
		}
		if slices.Contains(b.c.scan, n) {
			if err := b.scanBench(ctx, n, n == all[len(all)-1]); err != nil {
				return fmt.Errorf("scan at %d hosts: %w", n, err)
			}
		}
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// --- rollout ---------------------------------------------------------------

func (b *bench) rolloutBench(ctx context.Context, n int) error {
	mp, dir := n, filepath.Join(b.c.out, fmt.Sprintf("rollout-%d", n))
	if b.c.maxParallel > 0 && b.c.maxParallel < n {
		mp = b.c.maxParallel
		dir += fmt.Sprintf("-p%d", mp)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lab, err := inventory.Load(filepath.Join(b.c.stateDir, "inventory.yaml"))
	if err != nil {
		return err
	}
	if len(lab.Hosts) != n {
		return fmt.Errorf("the lab inventory has %d hosts, want %d", len(lab.Hosts), n)
	}
	invPath := filepath.Join(dir, "inventory.yaml")
	if err := writeBenchInventory(invPath, lab, n, mp, b.c.dropinStop, policy{b.c.batch, b.c.oldStop, b.c.confirm}); err != nil {
		return err
	}
	inv, err := inventory.Load(invPath)
	if err != nil {
		return fmt.Errorf("bench inventory: %w", err)
	}
	withAnsible := b.c.ansibleMax >= n
	if withAnsible {
		if _, err := exec.LookPath("ansible-playbook"); err != nil {
			return errors.New("ansible-playbook not found: apt-get install -y ansible-core (or -ansible-max 0)")
		}
		if err := writeAnsible(dir, lab, n, mp); err != nil {
			return err
		}
	}
	units, err := benchUnits(inv)
	if err != nil {
		return fmt.Errorf("bench inventory: %w", err)
	}
	if err := writeBuggy(dir, units); err != nil {
		return err
	}
	if err := writeAnsibleVars(filepath.Join(dir, "ansible-vars.json"), units, b.c.dropinStop); err != nil {
		return err
	}
	// Start from a known state, whatever an earlier, interrupted bench left.
	if err := runQuiet(ctx, b.log(), b.c.fleetfix, "rollback", "-i", invPath, "--all", "--state-dir", filepath.Join(dir, "ffstate")); err != nil {
		logf("rollback before the first run: %v", err)
	}
	if err := b.ensureStart(ctx, inv, units); err != nil {
		return err
	}
	tools := []string{"fleetfix"}
	if withAnsible {
		tools = append(tools, "ansible")
	}
	for r := 1; r <= b.c.runs; r++ {
		order := slices.Clone(tools)
		if r%2 == 0 {
			slices.Reverse(order)
		}
		for _, tool := range order {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rr, err := b.rolloutOnce(ctx, dir, inv, units, tool, r, mp)
			if err != nil {
				return err
			}
			b.res.Rollouts = append(b.res.Rollouts, rr)
			logf("rollout %d hosts, run %d, %s: wall %.2fs, exit %d, crit-path own %.2fs, overhead %.2fs, CPU %.2fs, maxrss %d MiB%s",
				n, r, tool, rr.Usage.Wall.Seconds(), rr.Usage.Exit, rr.CritOwn.Seconds(), rr.Overhead.Seconds(), rr.Usage.CPU().Seconds(), rr.Usage.MaxRSSKiB/1024, noteOf(rr.Note))
			b.restore(ctx, dir, invPath, tool, r)
			if err := b.ensureStart(ctx, inv, units); err != nil {
				return err
			}
		}
	}
	return nil
}

// restore puts the lab back in its starting state after run r of tool:
// each tool undoes its own rollout, the way an operator would.
func (b *bench) restore(ctx context.Context, dir, invPath, tool string, r int) {
	var err error
	if tool == "fleetfix" {
		err = runQuiet(ctx, b.log(), b.c.fleetfix, "rollback", "-i", invPath, "--all", "--state-dir", filepath.Join(dir, "ffstate"))
	} else {
		_, err = b.runMeasured(ctx, dir, fmt.Sprintf("restore-%d", r), []string{"ansible-playbook", "-e", "@" + filepath.Join(dir, "ansible-vars.json"), filepath.Join(b.c.ansibleDir, "restore.yml")},
			ansibleEnv(dir, fmt.Sprintf("restore-%d", r)), true)
	}
	if err != nil {
		logf("restore after %s: %v", tool, err)
	}
}

// batchSize is the hosts per batch after the canary, of rest hosts: -batch
// as a number, else all of them.
func (b *bench) batchSize(rest int) int {
	if n, err := strconv.Atoi(b.c.batch); err == nil && n > 0 {
		return n
	}
	return max(rest, 1)
}

func noteOf(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func ansibleEnv(dir, run string) []string {
	return []string{
		"ANSIBLE_CONFIG=" + filepath.Join(dir, "ansible.cfg"),
		"ANSIBLE_SSH_CONTROL_PATH_DIR=" + filepath.Join(dir, "cp-"+run),
		"ANSIBLE_NOCOLOR=1",
	}
}

func (b *bench) rolloutOnce(ctx context.Context, dir string, inv *inventory.Inventory, units []benchUnit, tool string, r, mp int) (RolloutRun, error) {
	n := len(inv.Hosts)
	name := fmt.Sprintf("run%d-%s", r, tool)
	rr := RolloutRun{Tool: tool, Hosts: n, Run: r, MaxParallel: mp}
	var argv, env []string
	if tool == "fleetfix" {
		argv = []string{b.c.fleetfix, "rollout", filepath.Join(dir, "inventory.yaml"), "-o", "json", "--state-dir", filepath.Join(dir, "ffstate")}
	} else {
		argv = []string{"ansible-playbook", "-e", "@" + filepath.Join(dir, "ansible-vars.json"), filepath.Join(b.c.ansibleDir, "rollout.yml")}
		env = ansibleEnv(dir, strconv.Itoa(r))
	}
	since := time.Now()
	u, err := b.runMeasured(ctx, dir, name, argv, env, tool == "ansible")
	if err != nil {
		return rr, err
	}
	u.User += u.OrphanCPU // the ssh ControlMasters' CPU is the controller's too
	rr.Usage = u
	if u.Exit != 0 {
		rr.Note = fmt.Sprintf("exit %d, see %s", u.Exit, filepath.Join(dir, name+".out"))
	}
	rr.HostTimes = collectTimes(ctx, inv, idents(units), since)
	var bad []string
	for _, ht := range rr.HostTimes {
		if ht.Err != "" {
			bad = append(bad, ht.Host+": "+ht.Err)
		}
	}
	if len(bad) > 0 {
		rr.Note = strings.TrimPrefix(rr.Note+"; journal: "+strings.Join(bad, "; "), "; ")
	}
	// The critical path: the canary, then the slowest host of each batch
	// (or, with fewer slots than hosts, the batch's own time spread over the
	// slots, if that is longer: a lower bound).
	rr.CritOwn = rr.HostTimes[0].Own
	for _, batch := range slices.Collect(slices.Chunk(rr.HostTimes[1:], b.batchSize(n-1))) {
		var slowest, sum time.Duration
		for _, ht := range batch {
			slowest = max(slowest, ht.Own)
			sum += ht.Own
		}
		rr.CritOwn += max(slowest, sum/time.Duration(min(mp, len(batch))))
	}
	rr.Overhead = u.Wall - rr.CritOwn
	if tool == "fleetfix" {
		ff, err := readFleetfixJSON(filepath.Join(dir, name+".out"))
		if err != nil {
			return rr, err
		}
		rr.FleetfixMS = ff.DurationMS
		for _, ht := range rr.HostTimes {
			h := ff.Hosts[ht.Host]
			if h == nil || h.First.IsZero() {
				continue
			}
			rr.SpanOverhead = append(rr.SpanOverhead, h.Last.Sub(h.First)-ht.Own)
			if h.NoticedMS != 0 {
				rr.Noticed = append(rr.Noticed, time.Duration(h.NoticedMS*float64(time.Millisecond)))
			}
		}
	}
	return rr, nil
}

// ensureStart verifies every host is in the starting state (buggy builds,
// no override.conf, no fleetfix lock, units active with the lab's stop
// timeout); a host that is not is restored directly, then checked again.
func (b *bench) ensureStart(ctx context.Context, inv *inventory.Inventory, units []benchUnit) error {
	bad := verifyStart(ctx, inv, units, b.c.stopTimeout)
	if len(bad) == 0 {
		return nil
	}
	logf("%d host(s) not in the starting state (%s): restoring them directly", len(bad), firstN(bad, 3))
	restoreDirect(ctx, inv, units)
	if bad = verifyStart(ctx, inv, units, b.c.stopTimeout); len(bad) > 0 {
		return fmt.Errorf("hosts not in the starting state: %s", firstN(bad, 5))
	}
	return nil
}

func firstN(s []string, n int) string {
	if len(s) > n {
		return strings.Join(s[:n], "; ") + fmt.Sprintf("; and %d more", len(s)-n)
	}
	return strings.Join(s, "; ")
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func verifyStart(ctx context.Context, inv *inventory.Inventory, units []benchUnit, stopTimeout string) []string {
	script, want := checkScript(units), startState(units, stopTimeout)
	return forEachHost(ctx, inv, func(ctx context.Context, h fleet.Host) error {
		out, err := h.Run(ctx, "sh", "-c", script)
		if err != nil {
			return err
		}
		got := strings.Fields(string(out))
		if !slices.Equal(got, want) {
			return fmt.Errorf("state %v, want %v", got, want)
		}
		return nil
	})
}

// restoreDirect puts the starting state back without either tool.
func restoreDirect(ctx context.Context, inv *inventory.Inventory, units []benchUnit) {
	script := restoreScript(units)
	forEachHost(ctx, inv, func(ctx context.Context, h fleet.Host) error {
		for _, u := range units {
			if _, err := h.Upload(ctx, bytes.NewReader(u.buggy), u.Dest, 0o755, "root:root"); err != nil {
				return err
			}
		}
		_, err := h.Run(ctx, "sh", "-c", script)
		return err
	})
}

func forEachHost(ctx context.Context, inv *inventory.Inventory, do func(context.Context, fleet.Host) error) []string {
	dial := fleet.RemoteDialer(inv, fleet.ConnectOptions{})
	errs := make([]error, len(inv.Hosts))
	sem := make(chan struct{}, 32)
	done := make(chan struct{})
	for i, t := range inv.Hosts {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; done <- struct{}{} }()
			ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
			defer cancel()
			h, err := dial(ctx, t)
			if err != nil {
				errs[i] = err
				return
			}
			defer func() { _ = h.Close() }() // do's error is the host's outcome
			errs[i] = do(ctx, h)
		}()
	}
	for range inv.Hosts {
		<-done
	}
	var bad []string
	for i, err := range errs {
		if err != nil {
			bad = append(bad, inv.Hosts[i].Name+": "+err.Error())
		}
	}
	return bad
}

// --- scan ------------------------------------------------------------------

func (b *bench) scanBench(ctx context.Context, n int, largest bool) error {
	dir := filepath.Join(b.c.out, fmt.Sprintf("scan-%d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if b.c.cycle {
		logf("lab down + up (%d hosts), so every journal holds a shutdown", n)
		t0 := time.Now()
		err := runQuiet(ctx, b.log(), b.labArgs("down")...)
		b.res.Labs = append(b.res.Labs, LabStep{Hosts: n, Step: "down", Duration: time.Since(t0), Err: errString(err)})
		if err != nil {
			return err
		}
		d, err := b.labUp(ctx, n)
		b.res.Labs = append(b.res.Labs, LabStep{Hosts: n, Step: "up again", Duration: d, Err: errString(err)})
		if err != nil {
			return err
		}
	}
	inv := filepath.Join(b.c.stateDir, "inventory.yaml")
	for r := 1; r <= b.c.scanRuns; r++ {
		name := fmt.Sprintf("scan%d", r)
		u, err := b.runMeasured(ctx, dir, name, []string{b.c.fleetfix, "scan", inv, "-o", "json"}, nil, false)
		if err != nil {
			return err
		}
		sr := ScanRun{Hosts: n, Run: r, Usage: u}
		countScan(&sr, filepath.Join(dir, name+".out"))
		b.res.Scans = append(b.res.Scans, sr)
		logf("scan %d hosts, run %d: wall %.2fs, CPU %.2fs, maxrss %d MiB, hosts' CPU %.2fs, machine busy %.0f%%, %d errors, %d SIGKILLed stops found",
			n, r, u.Wall.Seconds(), u.CPU().Seconds(), u.MaxRSSKiB/1024, u.HostsCPU.Seconds(), 100*u.MachineBusy, sr.Errors, sr.Killed)
	}
	if b.c.profile && largest {
		return b.profileScan(ctx, dir, inv, n, nil)
	}
	return nil
}

// profileScan scans inv once more under fleetprof, with its ssh_config
// arguments sshArgs (-F FILE or --no-ssh-config; none: the default files).
func (b *bench) profileScan(ctx context.Context, dir, inv string, n int, sshArgs []string) error {
	if b.c.fleetprof == "" {
		return errors.New("-profile needs -fleetprof")
	}
	cpu, mem := filepath.Join(dir, "scan.cpu.pprof"), filepath.Join(dir, "scan.heap.pprof")
	args := append([]string{b.c.fleetprof, "-i", inv, "-mode", "scan", "-cpuprofile", cpu, "-memprofile", mem}, sshArgs...)
	u, err := b.runMeasured(ctx, dir, "fleetprof", args, nil, false)
	if err != nil {
		return err
	}
	b.res.Profile = &Profile{Hosts: n, Usage: u, CPU: cpu, Heap: mem, Report: filepath.Join(dir, "fleetprof.out")}
	logf("profiled scan of %d hosts: %s, %s (go tool pprof -top %s)", n, cpu, mem, cpu)
	return nil
}

// countScan fills sr's counts from the scan's JSON output.
func countScan(sr *ScanRun, out string) {
	if s, err := readScanJSON(out); err != nil {
		sr.Note = "scan output: " + err.Error()
	} else {
		sr.FleetfixMS = s.DurationMS
		for _, h := range s.Hosts {
			switch {
			case h.Error != "":
				sr.Errors++
			case h.Note != "":
				sr.NoShutdown++
			}
			for _, u := range h.Units {
				if u.Killed {
					sr.Killed++
				}
			}
		}
	}
	if sr.Usage.Exit != 0 {
		sr.Note = strings.TrimPrefix(sr.Note+fmt.Sprintf("; exit %d", sr.Usage.Exit), "; ")
	}
}
