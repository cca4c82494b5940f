package main

import (
	"bytes"
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

// proc is one sfsync process; its output goes to a file in the log
// directory, the last 64 KiB of it kept in memory too.
type proc struct {
	name string
	cmd  *exec.Cmd
	file *os.File
	mu   sync.Mutex
	last []byte
	done chan struct{}
	err  error
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = append(p.last, b...)
	if len(p.last) > 64<<10 {
		p.last = append([]byte(nil), p.last[len(p.last)-32<<10:]...)
	}
	return p.file.Write(b)
}

// tail is the end of the process's output.
func (p *proc) tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(bytes.Clone(p.last))
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func command(bin string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	return cmd
}

func (r *rig) startProc(name string, extraEnv []string, args ...string) (*proc, error) {
	f, err := os.Create(filepath.Join(r.logDir, name+".log"))
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, file: f, done: make(chan struct{})}
	p.cmd = command(r.o.bin, append(r.procEnv(name), extraEnv...), args...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	r.procs = append(r.procs, p)
	return p, nil
}

// stopProcs sends SIGTERM to every live process and waits up to 30 s each.
func (r *rig) stopProcs() {
	for _, p := range r.procs {
		if !p.exited() {
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				r.log("SIGTERM to %s: %v", p.name, err)
			}
		}
	}
	for _, p := range r.procs {
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			r.log("%s did not stop within 30 s of SIGTERM; killing it", p.name)
			if err := p.cmd.Process.Kill(); err != nil {
				r.log("kill %s: %v", p.name, err)
			}
			<-p.done
		}
		p.file.Close()
	}
}

// procStat is a process's CPU time so far and resident memory.
type procStat struct {
	cpu time.Duration
	rss int64 // bytes
}

// clockTicks is USER_HZ, which Linux fixes at 100 for /proc/*/stat.
const clockTicks = 100

// readProcStat reads /proc/PID/stat (utime, stime) and /proc/PID/status
// (VmRSS). Linux only; zero elsewhere.
func readProcStat(pid int) procStat {
	var s procStat
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// The command name may hold spaces; fields start after its ')'.
		if i := bytes.LastIndexByte(b, ')'); i > 0 {
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 12 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				s.cpu = time.Duration(ut+st) * time.Second / clockTicks
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				s.rss = kb << 10
			}
		}
	}
	return s
}

func selfPID() int { return os.Getpid() }

// postgresPIDs lists the processes named postgres on this machine: the
// server and its backends, which run as another user but whose
// /proc/PID/stat anyone may read.
func postgresPIDs() []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err == nil && bytes.Contains(b, []byte("(postgres)")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// postgresCPU is the CPU time so far of every live PostgreSQL process:
// the database's CPU, when PostgreSQL runs here and serves nothing else.
func postgresCPU() time.Duration {
	var sum time.Duration
	for _, pid := range postgresPIDs() {
		sum += readProcStat(pid).cpu
	}
	return sum
}

// pgCPUTracker follows PostgreSQL's CPU over the measured phase process by
// process, so that a backend that exits on the way (the killed worker's)
// still counts up to its last sample, and leaves out the backends of this
// program's own queries (the samplers: application_name scale-driver).
type pgCPUTracker struct {
	first, last map[int]time.Duration
	driver      map[int]bool
}

func newPGCPUTracker() *pgCPUTracker {
	t := &pgCPUTracker{first: map[int]time.Duration{}, last: map[int]time.Duration{}, driver: map[int]bool{}}
	for _, pid := range postgresPIDs() {
		t.first[pid] = readProcStat(pid).cpu
		t.last[pid] = t.first[pid]
	}
	return t
}

// sample reads every PostgreSQL process's CPU; driver are the backends
// serving this program now.
func (t *pgCPUTracker) sample(driver []int) {
	for _, pid := range driver {
		t.driver[pid] = true
	}
	for _, pid := range postgresPIDs() {
		if c := readProcStat(pid).cpu; c > 0 {
			t.last[pid] = c // a process born since the start has first 0
		}
	}
}

// total is the CPU PostgreSQL spent since the tracker started, this
// program's backends left out.
func (t *pgCPUTracker) total() time.Duration {
	var sum time.Duration
	for pid, c := range t.last {
		if !t.driver[pid] {
			sum += c - t.first[pid]
		}
	}
	return sum
}
