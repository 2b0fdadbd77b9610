package main

import "runtime"

// minServeProcs is the fewest Go processors (GOMAXPROCS) serve runs with
// when the environment does not choose. On the two-CPU machine of
// benchmarks/, the runtime's default of two left the cores about 15 %
// idle under 64 HIS connections of the national gateway (HTTP/1.1, one
// request at a time on each), and four raised its claims per second by
// about a third with gRPC's rows unchanged (benchmarks/README.md, "Issue
// 12, fifth session"; docs/DECISIONS.md, "serve runs at least four Go
// processors").
const minServeProcs = 4

// serveProcs raises GOMAXPROCS to minServeProcs when getenv("GOMAXPROCS")
// is empty (the operator has not chosen) and the runtime's count is
// lower, and returns the count before and after.
func serveProcs(getenv func(string) string) (before, after int) {
	before = runtime.GOMAXPROCS(0)
	if getenv("GOMAXPROCS") != "" || before >= minServeProcs {
		return before, before
	}
	runtime.GOMAXPROCS(minServeProcs)
	return before, minServeProcs
}
