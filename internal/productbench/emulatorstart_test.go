package productbench

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/testenv"
)

// BenchmarkProductEmulatorStart starts `sfsync emulator --contacts N` (the
// built binary, as the first-sync benchmark starts it) and times it until
// it prints its side-door line, ready to serve (issue 14 item 6: 1M
// contacts in ≤ 20 s and ≤ 1 GB). It reports the wall time to ready, the
// process's CPU seconds and its peak RSS (VmHWM). N is 1,000,000, or
// SFSYNC_BENCH_EMULATOR_CONTACTS.
func BenchmarkProductEmulatorStart(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("SFSYNC_BENCH_EMULATOR_CONTACTS")); err == nil && v > 0 {
		n = v
	}
	b.Run(sizeName(n), func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			p := &product{tb: b, bin: sfsyncBinary(b)}
			start := time.Now()
			b.StartTimer()
			p.startEmulator(n)
			b.StopTimer()
			wall := time.Since(start)
			cpu, hwm := procStat(p.emu.cmd.Process.Pid)
			b.ReportMetric(wall.Seconds(), "ready_s")
			b.ReportMetric(cpu, "emulator_cpu_s")
			b.ReportMetric(hwm, "emulator_peak_rss_MB")
			testenv.ReportLoad(b)
		}
	})
}
