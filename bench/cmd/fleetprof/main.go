// Command fleetprof runs fleetfix's engine in-process under runtime/pprof,
// for profiling (fleetfix itself has no pprof flag): a scan (fleet.Scan) or a
// rollout (fleet.Rollout) of an inventory, over real SSH (fleet.RemoteDialer),
// exactly as the CLI does minus the output. It prints the wall time, the
// process's CPU time and peak RSS, and the Go heap's totals.
//
//	fleetprof -i INVENTORY -mode scan -cpuprofile cpu.pprof -memprofile heap.pprof
//	go tool pprof -top cpu.pprof
//	go tool pprof -sample_index=alloc_space -top heap.pprof
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/sshcfg"
)

func main() {
	inv := flag.String("i", "", "inventory")
	mode := flag.String("mode", "scan", "scan or rollout")
	parallel := flag.Int("parallel", 64, "scan: hosts at once")
	cpuProf := flag.String("cpuprofile", "", "write a CPU profile here")
	memProf := flag.String("memprofile", "", "write a heap profile (allocations since start, and in use at the end) here")
	memRate := flag.Int("memprofilerate", 0, "runtime.MemProfileRate (0: Go's default, one sample per 512 KiB)")
	noReboot := flag.Bool("no-reboot", false, "rollout: skip the reboot")
	sshFile := flag.String("F", "", "read this ssh_config file (as fleetfix -F); default: ~/.ssh/config and /etc/ssh/ssh_config")
	noSSH := flag.Bool("no-ssh-config", false, "read no ssh_config (as fleetfix --no-ssh-config)")
	flag.Parse()
	if *inv == "" {
		fmt.Fprintln(os.Stderr, "fleetprof: -i INVENTORY is required")
		os.Exit(2)
	}
	if *memRate > 0 {
		runtime.MemProfileRate = *memRate
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	in, err := inventory.Load(*inv)
	if err != nil {
		fail(err)
	}
	opts := fleet.ConnectOptions{}
	if !*noSSH {
		if opts.SSHConfig, err = loadSSHConfig(*sshFile); err != nil {
			fail(err)
		}
	}
	dial := fleet.RemoteDialer(in, opts)
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
	}
	var events atomic.Int64
	rep := fleet.ReporterFunc(func(fleet.Event) { events.Add(1) })
	start := time.Now()
	hosts, failed := measured(ctx, *mode, fleet.Options{Inventory: in, Dial: dial, Reporter: rep, NoReboot: *noReboot}, *parallel)
	wall := time.Since(start)
	stop() // the measured run is over: a Ctrl-C from here on ends fleetprof at once
	if *cpuProf != "" {
		pprof.StopCPUProfile()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if *memProf != "" {
		f, err := os.Create(*memProf)
		if err != nil {
			fail(err)
		}
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			fail(err)
		}
		if err := f.Close(); err != nil {
			fail(err)
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail(err)
	}
	fmt.Printf("%s of %d hosts (%d failed, %d events): wall %.3fs, CPU user %.3fs sys %.3fs, peak RSS %.1f MiB\n",
		*mode, hosts, failed, events.Load(), wall.Seconds(), time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds(), float64(ru.Maxrss)/1024)
	fmt.Printf("Go heap: allocated in total %.1f MiB in %d objects, %d GCs, heap obtained from the OS %.1f MiB, in use at the end %.1f MiB, goroutines at the end %d\n",
		float64(ms.TotalAlloc)/(1<<20), ms.Mallocs, ms.NumGC, float64(ms.HeapSys)/(1<<20), float64(ms.HeapInuse)/(1<<20), runtime.NumGoroutine())
	if failed > 0 {
		os.Exit(1)
	}
}

// measured runs the profiled work, a scan or a rollout, and counts its
// hosts and failures.
func measured(ctx context.Context, mode string, o fleet.Options, parallel int) (hosts, failed int) {
	switch mode {
	case "scan":
		for _, r := range fleet.Scan(ctx, fleet.ScanOptions{Inventory: o.Inventory, Dial: o.Dial, Reporter: o.Reporter, Parallel: parallel}) {
			hosts++
			if r.Err() != nil {
				failed++
			}
		}
	case "rollout":
		s, err := fleet.Rollout(ctx, o)
		if err != nil {
			fail(err)
		}
		hosts, failed = len(s.Hosts), s.Failed()
	default:
		fail(fmt.Errorf("-mode %q: want scan or rollout", mode))
	}
	return hosts, failed
}

// loadSSHConfig reads the ssh_config fleetfix would: file, or the default
// files when it is empty.
func loadSSHConfig(file string) (*sshcfg.Config, error) {
	paths, err := sshcfg.DefaultPaths(file)
	if err != nil {
		return nil, err
	}
	return sshcfg.Load(paths)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fleetprof:", err)
	os.Exit(1)
}
