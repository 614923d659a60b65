package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Results is everything one fleetbench run measured (results.json).
type Results struct {
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished"`
	Config   map[string]string `json:"config"`
	Labs     []LabStep         `json:"labs"`
	Rollouts []RolloutRun      `json:"rollouts"`
	Scans    []ScanRun         `json:"scans"`
	Profile  *Profile          `json:"profile,omitempty"`
}

type LabStep struct {
	Hosts    int           `json:"hosts"`
	Step     string        `json:"step"`
	Duration time.Duration `json:"duration_ns"`
	Err      string        `json:"error,omitempty"`
}

type RolloutRun struct {
	Tool        string      `json:"tool"`
	Hosts       int         `json:"hosts"`
	MaxParallel int         `json:"max_parallel"`
	Run         int         `json:"run"`
	Usage       Usage       `json:"usage"`
	Note        string      `json:"note,omitempty"`
	HostTimes   []HostTimes `json:"host_times"`
	// CritOwn is the hosts' own time on the critical path: the canary's,
	// plus the slowest host's of the batch after it.
	CritOwn time.Duration `json:"crit_own_ns"`
	// Overhead is wall - CritOwn: what the controller added to the run.
	Overhead time.Duration `json:"overhead_ns"`
	// SpanOverhead (fleetfix): per host, its first event -> its last event,
	// minus its own time from its journal.
	SpanOverhead []time.Duration `json:"span_overhead_ns,omitempty"`
	// Noticed (fleetfix): hosts[].reboot.noticed_ms of its JSON summary.
	Noticed    []time.Duration `json:"noticed_ns,omitempty"`
	FleetfixMS float64         `json:"fleetfix_duration_ms,omitempty"`
}

type ScanRun struct {
	Hosts      int     `json:"hosts"`
	Run        int     `json:"run"`
	Usage      Usage   `json:"usage"`
	FleetfixMS float64 `json:"fleetfix_duration_ms"`
	Errors     int     `json:"errors"`
	NoShutdown int     `json:"no_shutdown"`
	Killed     int     `json:"killed"`
	Note       string  `json:"note,omitempty"`
	// Stub: the hosts were stubFleet's, not the lab's; StubCPU is what
	// they used.
	Stub    bool          `json:"stub,omitempty"`
	StubCPU time.Duration `json:"stub_cpu_ns,omitempty"`
	// Bastion: the stubs were behind a stub bastion, which saw this.
	Bastion *BastionStats `json:"bastion,omitempty"`
}

type Profile struct {
	Hosts  int    `json:"hosts"`
	Usage  Usage  `json:"usage"`
	CPU    string `json:"cpu_profile"`
	Heap   string `json:"heap_profile"`
	Report string `json:"report"`
}

// spread is "median (min–max)" of ds in unit u.
func spread(ds []time.Duration, u time.Duration, prec int) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	f := func(d time.Duration) string { return fmt.Sprintf("%.*f", prec, float64(d)/float64(u)) }
	if len(s) == 1 {
		return f(s[0])
	}
	return fmt.Sprintf("%s (%s–%s)", f(median(s)), f(s[0]), f(s[len(s)-1]))
}

func median(s []time.Duration) time.Duration {
	s = slices.Clone(s)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func mib(kib int64) time.Duration { return time.Duration(kib) } // for spread with unit 1024

// print writes the results' tables for a person. Its write errors are not
// checked: w is the terminal, and results.json holds the same figures.
func (b *bench) print(w io.Writer) {
	r := b.res
	fmt.Fprintf(w, "\nfleetbench: %s\n", r.Config["cmdline"])
	fmt.Fprintf(w, "lab %s, buggy TimeoutStopSec %s, drop-in TimeoutStopSec %s; raw outputs and results.json in %s\n",
		r.Config["lab"], r.Config["lab_stop_timeout"], r.Config["dropin_timeout_stop_sec"], b.c.out)
	if len(r.Labs) > 0 {
		var parts []string
		for _, l := range r.Labs {
			s := fmt.Sprintf("%s %d hosts %.1fs", l.Step, l.Hosts, l.Duration.Seconds())
			if l.Err != "" {
				s += " FAILED: " + l.Err
			}
			parts = append(parts, s)
		}
		fmt.Fprintf(w, "lab: %s\n", strings.Join(parts, "; "))
	}
	if len(r.Rollouts) > 0 {
		b.printRollouts(w)
		b.printRatios(w)
		b.printDetection(w)
	}
	if len(r.Scans) > 0 {
		b.printScans(w)
	}
	if p := r.Profile; p != nil {
		fmt.Fprintf(w, "\nPROFILE of a scan of %d hosts (fleetprof, in-process fleet.Scan): wall %.2fs, CPU %.2fs, maxrss %d MiB\n  go tool pprof -top %s\n  go tool pprof -sample_index=alloc_space -top %s\n  report: %s\n",
			p.Hosts, p.Usage.Wall.Seconds(), p.Usage.CPU().Seconds(), p.Usage.MaxRSSKiB/1024, p.CPU, p.Heap, p.Report)
	}
}

// printRollouts writes the rollout table: wall, the hosts' own time, the
// overhead and the resources, per host count and tool.
func (b *bench) printRollouts(w io.Writer) {
	r := b.res
	shape := "canary 1 then the rest at once"
	if b.c.batch != "" {
		shape = "canary 1 then batches of " + b.c.batch
	}
	if b.c.oldStop != "" {
		shape += ", old_stop_timeout " + b.c.oldStop
	}
	if b.c.confirm != "" {
		shape += ", confirm_timeout " + b.c.confirm
	}
	fmt.Fprintf(w, "\nROLLOUT with reboot, %s (median (min–max) over runs; times in s)\n", shape)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOSTS\tTOOL\tRUNS\tWALL\tHOSTS' OWN (crit. path)\tOVERHEAD (wall-own)\tOVERHEAD/HOST crit. path\tOVERHEAD/HOST span-own (max)\tCPU user+sys\tMAXRSS MiB\tTREE PSS MiB\tHOSTS' CPU\tMACHINE CPU BUSY\tFAILED")
	for _, k := range rolloutKeys(r.Rollouts) {
		var wall, own, over, perHost, span, cpu, rss, pss, busy, hcpu []time.Duration
		failed := 0
		for _, x := range r.Rollouts {
			if x.Hosts != k.n || x.MaxParallel != k.mp || x.Tool != k.tool {
				continue
			}
			if x.Usage.Exit != 0 || x.Note != "" {
				failed++
			}
			wall = append(wall, x.Usage.Wall)
			own = append(own, x.CritOwn)
			over = append(over, x.Overhead)
			// The critical path holds the canary, then one host per wave of
			// the batch (one wave when every host has a slot).
			stages := 1 + (x.Hosts-1+x.MaxParallel-1)/max(x.MaxParallel, 1)
			perHost = append(perHost, x.Overhead/time.Duration(stages))
			span = append(span, x.SpanOverhead...)
			cpu = append(cpu, x.Usage.CPU())
			rss = append(rss, mib(x.Usage.MaxRSSKiB))
			pss = append(pss, mib(x.Usage.TreePeakPSSKiB))
			busy = append(busy, time.Duration(x.Usage.MachineBusy*1000))
			hcpu = append(hcpu, x.Usage.HostsCPU)
		}
		spanS := "-"
		if len(span) > 0 {
			spanS = fmt.Sprintf("%.2f (%.2f)", median(span).Seconds(), slices.Max(span).Seconds())
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s%%\t%d\n", k.hosts(), k.tool, len(wall),
			spread(wall, time.Second, 2), spread(own, time.Second, 2), spread(over, time.Second, 2), spread(perHost, time.Second, 2),
			spanS, spread(cpu, time.Second, 2), spread(rss, 1024, 0), spread(pss, 1024, 0), spread(hcpu, time.Second, 1), spread(busy, 10, 0), failed)
	}
	_ = tw.Flush()
}

// printRatios writes, per host count, Ansible's wall and overhead over
// fleetfix's, run pair by run pair.
func (b *bench) printRatios(w io.Writer) {
	r := b.res
	for _, k := range rolloutKeys(r.Rollouts) {
		if k.tool != "fleetfix" {
			continue
		}
		var ratios, oratios []time.Duration
		byRun := map[int]map[string]RolloutRun{}
		for _, x := range r.Rollouts {
			if x.Hosts == k.n && x.MaxParallel == k.mp {
				if byRun[x.Run] == nil {
					byRun[x.Run] = map[string]RolloutRun{}
				}
				byRun[x.Run][x.Tool] = x
			}
		}
		for _, m := range byRun {
			f, fok := m["fleetfix"]
			a, aok := m["ansible"]
			if fok && aok {
				ratios = append(ratios, time.Duration(float64(a.Usage.Wall)/float64(f.Usage.Wall)*1000))
				if f.Overhead > 0 {
					oratios = append(oratios, time.Duration(float64(a.Overhead)/float64(f.Overhead)*1000))
				}
			}
		}
		if len(ratios) > 0 {
			fmt.Fprintf(w, "%s hosts, per run pair: Ansible wall / fleetfix wall %sx; Ansible overhead / fleetfix overhead %sx\n",
				k.hosts(), spread(ratios, 1000, 2), spread(oratios, 1000, 1))
		}
	}
}

// printDetection writes how soon each tool noticed a rebooted host, and
// how much it touched hosts while they shut down.
func (b *bench) printDetection(w io.Writer) {
	r := b.res
	fmt.Fprintf(w, "\nREBOOT DETECTION: new boot's sshd \"Started\" -> controller noticed (ms), and sshd activity while the host shut down\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOSTS\tTOOL\tREBOOTS\tNOTICED (fleetfix JSON noticed_ms)\tFIRST LOGIN (journal)\tLOGINS IN SHUTDOWN (total, max/host)\tBANNER PROBES IN SHUTDOWN (total, max/host)")
	for _, k := range rolloutKeys(r.Rollouts) {
		var noticed, login []time.Duration
		reboots, logins, probes, maxL, maxP := 0, 0, 0, 0, 0
		for _, x := range r.Rollouts {
			if x.Hosts != k.n || x.MaxParallel != k.mp || x.Tool != k.tool {
				continue
			}
			noticed = append(noticed, x.Noticed...)
			for _, ht := range x.HostTimes {
				if ht.RebootStart.IsZero() {
					continue
				}
				reboots++
				if ht.DetectJournal != 0 {
					login = append(login, ht.DetectJournal)
				}
				logins += ht.ShutdownLogins
				probes += ht.ShutdownProbes
				maxL, maxP = max(maxL, ht.ShutdownLogins), max(maxP, ht.ShutdownProbes)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d, %d\t%d, %d\n", k.hosts(), k.tool, reboots, spread(noticed, time.Millisecond, 0), spread(login, time.Millisecond, 0), logins, maxL, probes, maxP)
	}
	_ = tw.Flush()
}

// printScans writes the scan table, per host count (lab or stub).
func (b *bench) printScans(w io.Writer) {
	r := b.res
	fmt.Fprintf(w, "\nSCAN (fleetfix scan -o json, --parallel 64; median (min–max) over runs; \"stub\": hosts served by fleetbench itself, HOSTS' CPU is theirs)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOSTS\tRUNS\tWALL s\tFLEETFIX duration_ms\tCPU user+sys s\tMAXRSS MiB\tHOSTS' CPU s\tMACHINE CPU BUSY\tERRORS\tHOSTS W/O SHUTDOWN\tSIGKILLED STOPS FOUND")
	type skey struct {
		stub    bool
		hosts   int
		bastion bool
	}
	var keys []skey
	for _, s := range r.Scans {
		keys = append(keys, skey{s.Stub, s.Hosts, s.Bastion != nil})
	}
	slices.SortFunc(keys, func(a, b skey) int {
		if a.bastion != b.bastion {
			if a.bastion {
				return 1
			}
			return -1
		}
		if a.stub != b.stub {
			if a.stub {
				return 1
			}
			return -1
		}
		return a.hosts - b.hosts
	})
	for _, k := range slices.Compact(keys) {
		var wall, ffd, cpu, rss, hcpu, busy []time.Duration
		errs, nos, killed := 0, 0, 0
		for _, s := range r.Scans {
			if s.Hosts != k.hosts || s.Stub != k.stub || (s.Bastion != nil) != k.bastion {
				continue
			}
			wall = append(wall, s.Usage.Wall)
			ffd = append(ffd, time.Duration(s.FleetfixMS*float64(time.Millisecond)))
			cpu = append(cpu, s.Usage.CPU())
			rss = append(rss, mib(s.Usage.MaxRSSKiB))
			hcpu = append(hcpu, s.Usage.HostsCPU+s.StubCPU)
			busy = append(busy, time.Duration(s.Usage.MachineBusy*1000))
			errs, nos, killed = max(errs, s.Errors), max(nos, s.NoShutdown), max(killed, s.Killed)
		}
		hosts := strconv.Itoa(k.hosts)
		if k.stub {
			hosts += " stub"
		}
		if k.bastion {
			hosts += " via bastion"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s%%\t%d\t%d\t%d\n", hosts, len(wall), spread(wall, time.Second, 2), spread(ffd, time.Millisecond, 0),
			spread(cpu, time.Second, 2), spread(rss, 1024, 1), spread(hcpu, time.Second, 1), spread(busy, 10, 0), errs, nos, killed)
	}
	_ = tw.Flush()
}

type rkey struct {
	n, mp int
	tool  string
}

func (k rkey) hosts() string {
	if k.mp < k.n {
		return fmt.Sprintf("%d (%d at once)", k.n, k.mp)
	}
	return fmt.Sprint(k.n)
}

func rolloutKeys(rs []RolloutRun) []rkey {
	var ks []rkey
	for _, x := range rs {
		k := rkey{x.Hosts, x.MaxParallel, x.Tool}
		if !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(a, b rkey) int {
		if a.n != b.n {
			return a.n - b.n
		}
		if a.mp != b.mp {
			return b.mp - a.mp
		}
		return strings.Compare(b.tool, a.tool) // fleetfix first
	})
	return ks
}
