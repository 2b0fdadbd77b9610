package main

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// spinCPU spends d of this thread's CPU time (not of the clock's: a
// thread the machine's other load holds off gets its work done later,
// as a server's would).
func spinCPU(d time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	threadCPU := func() time.Duration {
		var ts syscall.Timespec
		_, _, _ = syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
		return time.Duration(ts.Nano())
	}
	for end := threadCPU() + d; threadCPU() < end; {
	}
}
