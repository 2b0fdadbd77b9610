package main

import (
	"os"
	"testing"
	"time"
)

func TestCallWindowAndCPUBetween(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// Calls end at 1,010 ms (10 ms long) and 3,000 ms (50 ms long); one
	// without a timestamp is ignored.
	from, to, ok := callWindow([]callDetail{
		{Timestamp: at(3000), Latency: 50 * time.Millisecond},
		{Latency: time.Hour},
		{Timestamp: at(1010), Latency: 10 * time.Millisecond},
	})
	if !ok || !from.Equal(at(1000)) || !to.Equal(at(3000)) {
		t.Fatalf("window %v – %v, %v", from, to, ok)
	}
	if _, _, ok := callWindow(nil); ok {
		t.Fatal("a window without calls")
	}
	// ghz parses its file for the first second (800 ms of CPU), runs the
	// calls, then writes its report (300 ms more).
	samples := []cpuSample{
		{at(0), 0}, {at(500), 400 * time.Millisecond}, {at(995), 800 * time.Millisecond},
		{at(2000), 1800 * time.Millisecond}, {at(3004), 2800 * time.Millisecond}, {at(3300), 3100 * time.Millisecond},
	}
	if got, ok := cpuBetween(samples, from, to); !ok || got != 2000*time.Millisecond {
		t.Fatalf("CPU in the window %v, %v; want 2s (995 ms – 3,004 ms)", got, ok)
	}
	if _, ok := cpuBetween(samples, from, at(4000)); ok {
		t.Fatal("a window past the last reading")
	}
	if _, ok := cpuBetween(samples, at(-1), to); ok {
		t.Fatal("a window before the first reading")
	}
}

func TestSampleCPU(t *testing.T) {
	stop := sampleCPU(os.Getpid(), time.Millisecond)
	deadline := time.Now().Add(30 * time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ { // burn some CPU
		_ = n * n
	}
	samples := stop()
	if len(samples) < 2 {
		t.Fatalf("%d readings in 30 ms at 1 ms", len(samples))
	}
	for i := 1; i < len(samples); i++ {
		if samples[i].at.Before(samples[i-1].at) || samples[i].cpu < samples[i-1].cpu {
			t.Fatalf("readings out of order: %v", samples)
		}
	}
}
