package main

import (
	"runtime"
	"testing"
)

// TestServeProcs: serve raises GOMAXPROCS to minServeProcs only when the
// environment does not set GOMAXPROCS and the runtime's count is lower.
func TestServeProcs(t *testing.T) {
	was := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(was) })
	unset := func(string) string { return "" }
	for _, c := range []struct {
		name         string
		start        int
		getenv       func(string) string
		before, want int
	}{
		{"one CPU, unset", 1, unset, 1, minServeProcs},
		{"two CPUs, unset", 2, unset, 2, minServeProcs},
		{"two CPUs, GOMAXPROCS=2 set", 2, func(k string) string {
			if k == "GOMAXPROCS" {
				return "2"
			}
			return ""
		}, 2, 2},
		{"as many as the floor", minServeProcs, unset, minServeProcs, minServeProcs},
		{"more than the floor", minServeProcs + 4, unset, minServeProcs + 4, minServeProcs + 4},
	} {
		runtime.GOMAXPROCS(c.start)
		before, after := serveProcs(c.getenv)
		if before != c.before || after != c.want || runtime.GOMAXPROCS(0) != c.want {
			t.Errorf("%s: serveProcs = %d, %d and GOMAXPROCS %d; want %d, %d", c.name, before, after, runtime.GOMAXPROCS(0), c.before, c.want)
		}
	}
}
