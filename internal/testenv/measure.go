package testenv

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// CPUSeconds is this process's user and system CPU time so far: unlike
// wall time it hardly depends on the machine's load from other work.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// ReportLoad reports the machine's 1-minute load average when the
// measurement ended (benchmarks on a shared two-core machine record it
// beside their figures).
func ReportLoad(b *testing.B) {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	if fields := strings.Fields(string(raw)); len(fields) > 0 {
		if v, err := strconv.ParseFloat(fields[0], 64); err == nil {
			b.ReportMetric(v, "load1")
		}
	}
}
