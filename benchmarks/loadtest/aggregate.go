package main

import (
	"sort"
	"time"
)

// figures are a row's measurements, summed over its rounds.
type figures struct {
	count   uint64
	rps     float64
	p50     time.Duration
	p99     time.Duration
	errors  int
	errDist map[string]int
	// serverCPU and ghzCPU are the CPU time per call of the server and
	// of ghz (zero where unknown).
	serverCPU time.Duration
	ghzCPU    time.Duration
}

// aggregate sums a call's rounds: the rate is every call over the time of
// every round, the percentiles are over the latencies of every call that
// ended OK (as ghz computes them for one run), the errors are every call
// that did not.
func aggregate(reps []report) figures {
	f := figures{errDist: map[string]int{}}
	var total time.Duration
	var ok []time.Duration
	var serverCPU, ghzCPU time.Duration
	for _, r := range reps {
		serverCPU += r.ServerCPU
		ghzCPU += r.GhzCPU
		f.count += r.Count
		total += r.Total
		for code, n := range r.StatusCodeDist {
			if code != "OK" {
				f.errors += n
			}
		}
		for msg, n := range r.ErrorDist {
			f.errDist[msg] += n
		}
		for _, d := range r.Details {
			if d.Error == "" {
				ok = append(ok, d.Latency)
			}
		}
	}
	if total > 0 {
		f.rps = float64(f.count) / total.Seconds()
	}
	if f.count > 0 {
		f.serverCPU = serverCPU / time.Duration(f.count)
		f.ghzCPU = ghzCPU / time.Duration(f.count)
	}
	sort.Slice(ok, func(i, j int) bool { return ok[i] < ok[j] })
	f.p50, f.p99 = percentile(ok, 50), percentile(ok, 99)
	return f
}

// percentile is ghz's: the latency of rank ⌈pct % of n⌉ of the sorted
// latencies (0 for none).
func percentile(sorted []time.Duration, pct int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	ip := float64(pct) / 100 * float64(len(sorted))
	i := int(ip)
	if ip == float64(i) {
		i--
	}
	return sorted[max(i, 0)]
}
