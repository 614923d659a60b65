package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Usage is what one controller process (and, for Ansible, its workers and
// its ssh ControlMaster processes) cost.
type Usage struct {
	Wall time.Duration `json:"wall_ns"`
	Exit int           `json:"exit"`
	// User and Sys are from the child's rusage (wait4): the process and every
	// descendant it waited for (Ansible's forks and their ssh clients).
	User time.Duration `json:"user_ns"`
	Sys  time.Duration `json:"sys_ns"`
	// MaxRSS is rusage ru_maxrss: the largest single process of that tree.
	MaxRSSKiB int64 `json:"maxrss_kib"`
	// TreePeakPSS is the largest sum of PSS over the whole process tree seen
	// by sampling every 100 ms (for a multi-process controller such as
	// Ansible, the memory it really holds at once; forks share pages, PSS
	// splits them fairly).
	TreePeakPSSKiB int64 `json:"tree_peak_pss_kib"`
	TreePeakProcs  int   `json:"tree_peak_procs"`
	// Orphans are processes the tool left running that were reparented to
	// fleetbench (Ansible's ssh ControlMaster processes, ControlPersist):
	// their CPU is added to User/Sys when they are ended after the run.
	Orphans   int           `json:"orphans"`
	OrphanCPU time.Duration `json:"orphan_cpu_ns"`
	// MachineBusy is the share of the machine's CPU time (every core) that
	// was busy during the run: the controller, the lab hosts, everything.
	MachineBusy float64 `json:"machine_busy"`
	// HostsCPU is the CPU time the lab's hosts used during the run (their
	// cgroups' cpu.stat usage_usec): sshd, the commands, the services.
	HostsCPU time.Duration `json:"hosts_cpu_ns"`
}

// hostsCPU is the CPU time the cgroup2 directories matching glob (the lab
// hosts', config.labCgroups) have used.
func hostsCPU(glob string) time.Duration {
	dirs, _ := filepath.Glob(glob)
	var sum int64
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cpu.stat"))
		if err != nil {
			continue
		}
		if rest, ok := strings.CutPrefix(string(b), "usage_usec "); ok {
			v, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			sum += v
		}
	}
	return time.Duration(sum) * time.Microsecond
}

// CPU is user + sys.
func (u Usage) CPU() time.Duration { return u.User + u.Sys }

// runMeasured runs a controller with its output to files and returns what
// it cost. With reap, fleetbench is a child subreaper for the run, so
// daemonized helpers (ssh ControlMaster) are counted and then ended.
func (b *bench) runMeasured(ctx context.Context, dir, name string, argv []string, env []string, reap bool) (Usage, error) {
	var u Usage
	stdout, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		return u, err
	}
	// The tool's own output, kept for a person to read after the run.
	defer func() { _ = stdout.Close() }()
	stderr, err := os.Create(filepath.Join(dir, name+".err"))
	if err != nil {
		return u, err
	}
	defer func() { _ = stderr.Close() }()
	fmt.Fprintf(stderr, "# %s\n", strings.Join(argv, " "))
	if reap {
		if err := setSubreaper(true); err != nil {
			return u, err
		}
		// Unsetting cannot fail where setting worked.
		defer func() { _ = setSubreaper(false) }()
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	busy0, total0 := machineCPU()
	hcpu0 := hostsCPU(b.c.labCgroups())
	if err := cmd.Start(); err != nil {
		return u, err
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var peakPSS int64
	var peakProcs int
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			pss, n := treePSS(os.Getpid())
			peakPSS, peakProcs = max(peakPSS, pss), max(peakProcs, n)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	werr := cmd.Wait()
	u.Wall = time.Since(start)
	u.HostsCPU = hostsCPU(b.c.labCgroups()) - hcpu0
	if busy1, total1 := machineCPU(); total1 > total0 {
		u.MachineBusy = float64(busy1-busy0) / float64(total1-total0)
	}
	close(stop)
	wg.Wait()
	u.TreePeakPSSKiB, u.TreePeakProcs = peakPSS, peakProcs
	if ps := cmd.ProcessState; ps != nil {
		u.Exit = ps.ExitCode()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			u.User = time.Duration(ru.Utime.Nano())
			u.Sys = time.Duration(ru.Stime.Nano())
			u.MaxRSSKiB = ru.Maxrss
		}
	}
	if reap {
		n, cpu := endOrphans()
		u.Orphans, u.OrphanCPU = n, cpu
	}
	if werr != nil {
		if _, ok := werr.(*exec.ExitError); ok {
			return u, nil // the exit code says it
		}
		return u, werr
	}
	return u, nil
}

const prSetChildSubreaper = 36

// setSubreaper makes fleetbench the reaper of its orphaned descendants (or
// no longer), so the helpers a measured tool daemonizes are found.
func setSubreaper(on bool) error {
	v := uintptr(0)
	if on {
		v = 1
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, v, 0); errno != 0 {
		return fmt.Errorf("prctl PR_SET_CHILD_SUBREAPER %d: %w", v, errno)
	}
	return nil
}

// children lists the child pids of pid (every thread's children).
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// treePSS sums the PSS of every descendant of root (root excluded).
func treePSS(root int) (int64, int) {
	var sum int64
	n := 0
	stack := children(root)
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		sum += pssKiB(p)
		n++
		stack = append(stack, children(p)...)
	}
	return sum, n
}

func pssKiB(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }() // read only
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("Pss:")); ok {
			v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(rest)), " kB"), 10, 64)
			return v
		}
	}
	return 0
}

// endOrphans ends the processes a run left behind as fleetbench's children
// (only those: they were started by the measured tool), after it exited,
// and returns how many there were and the CPU time they used.
func endOrphans() (int, time.Duration) {
	var cpu time.Duration
	n := 0
	for _, pid := range children(os.Getpid()) {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.TrimSpace(string(comm)) != "ssh" {
			continue // not a helper the tool left: never touch it
		}
		n++
		// A helper gone meanwhile fails Kill and Wait4: it is counted, and
		// its CPU time (already in nobody's rusage) read as 0.
		_ = syscall.Kill(pid, syscall.SIGTERM)
		var ws syscall.WaitStatus
		var ru syscall.Rusage
		done := make(chan struct{})
		go func() {
			_, _ = syscall.Wait4(pid, &ws, 0, &ru)
			close(done)
		}()
		select {
		case <-done:
			cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(pid, syscall.SIGKILL)
			<-done
		}
	}
	return n, cpu
}

// runQuiet runs a helper command (lab, rollback, restore) with its output
// appended to a log file; it returns an error naming the log on failure.
func runQuiet(ctx context.Context, logPath string, argv ...string) error {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // a log: the command's error is the news
	fmt.Fprintf(f, "\n# %s %s\n", time.Now().Format(time.RFC3339), strings.Join(argv, " "))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w (see %s)", strings.Join(argv, " "), err, logPath)
	}
	return nil
}

// machineCPU returns the busy and total jiffies of all CPUs (/proc/stat).
func machineCPU() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i >= 8 { // guest times are already in user and nice
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}
