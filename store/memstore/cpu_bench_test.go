package memstore_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports, when the benchmark ends, the process's CPU time per
// operation since it was called ("cpu-ns/op"). On a machine shared with
// other work, wall time per operation moves with their load; the CPU time
// this process spends moves much less, and is what a change to the
// store's path cuts.
func reportCPU(b *testing.B) {
	start := cpuTime(b)
	b.Cleanup(func() {
		b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
	})
}
