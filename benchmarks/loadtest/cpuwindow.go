package main

import (
	"sort"
	"time"
)

// ghz parses its request file before it starts its clock, and writes its
// report after it stops it: CPU time the server's calls never compete
// with, and which a bigger request file would make look like a cost per
// call. So ghz's CPU time is read every few milliseconds while it runs,
// and its cost per call is what it used between its first call's start
// and its last call's end.

// cpuSample is a process's CPU time read at a moment.
type cpuSample struct {
	at  time.Time
	cpu time.Duration
}

// cpuSampleEvery is how often a running ghz's CPU time is read: often
// enough that the window's edges are off by less than the 10 ms the
// kernel counts CPU time in.
const cpuSampleEvery = 5 * time.Millisecond

// sampleCPU reads process pid's CPU time every interval until stop is
// called, which returns the readings in order.
func sampleCPU(pid int, interval time.Duration) (stop func() []cpuSample) {
	done := make(chan struct{})
	out := make(chan []cpuSample, 1)
	go func() {
		var samples []cpuSample
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if cpu, ok := processCPU(pid); ok {
				samples = append(samples, cpuSample{time.Now(), cpu})
			}
			select {
			case <-done:
				out <- samples
				return
			case <-t.C:
			}
		}
	}()
	return func() []cpuSample {
		close(done)
		return <-out
	}
}

// cpuBetween is the CPU time used from from to to, read from samples (in
// order): the last reading at or before from, and the first at or after
// to, so that the window is never cut short. False when the samples do
// not cover the window.
func cpuBetween(samples []cpuSample, from, to time.Time) (time.Duration, bool) {
	if len(samples) == 0 || to.Before(from) {
		return 0, false
	}
	i := sort.Search(len(samples), func(i int) bool { return samples[i].at.After(from) }) - 1
	j := sort.Search(len(samples), func(i int) bool { return !samples[i].at.Before(to) })
	if i < 0 || j >= len(samples) {
		return 0, false
	}
	return samples[j].cpu - samples[i].cpu, true
}

// callWindow is when a ghz run's calls ran: from the earliest start (a
// call's timestamp is when it ended) to the latest end; false without
// calls.
func callWindow(details []callDetail) (from, to time.Time, ok bool) {
	for _, d := range details {
		if d.Timestamp.IsZero() {
			continue
		}
		start := d.Timestamp.Add(-d.Latency)
		if !ok || start.Before(from) {
			from = start
		}
		if !ok || d.Timestamp.After(to) {
			to = d.Timestamp
		}
		ok = true
	}
	return from, to, ok
}
