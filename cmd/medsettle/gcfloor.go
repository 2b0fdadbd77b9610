package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// defaultHeapFloorMiB is serve's --gc-heap-floor-mib. With Go's default
// collector settings (GOGC=100) the collector runs each time the heap
// doubles its live part. Served by PostgreSQL the server keeps little
// alive (tens of MB), so under load it collected several times a second
// and spent about 12 % of its CPU marking; with a floor of 128 MiB its CPU
// per Settle fell by a sixth (benchmarks/README.md, "Issue 9, eighth
// session"), and 256 MiB measured no better. Above the floor the
// collector runs as by default: the embedded store's heap, which holds
// every settlement, soon outgrows it. 128 MiB keeps serve well inside
// issue 11's bound of 300 MB while it streams a contribution plan.
const defaultHeapFloorMiB = 128

// heapFloor keeps the garbage collector's heap goal at floor bytes or
// more: after every collection it sets GOGC (debug.SetGCPercent) to the
// larger of base and the percentage that puts the goal at floor. A
// memory limit (GOMEMLIMIT) still applies above it. GOGC is the
// runtime's one knob a process may turn itself; serve starts a floor
// unless the operator set GOGC.
type heapFloor struct {
	floor   uint64
	base    int
	stopped atomic.Bool
	// percent is the GOGC last set, for tests and the log.
	percent atomic.Int64
	sample  []metrics.Sample
}

// maxFloorPercent bounds the GOGC the floor sets.
const maxFloorPercent = 100_000

// heapMinimum is the runtime's smallest heap goal at GOGC=100 (4 MiB),
// which it scales with GOGC: at GOGC=p no goal is under heapMinimum·p/100.
const heapMinimum = 4 << 20

// The runtime/metrics the goal is computed from: the heap the last
// collection found alive, and the stacks and globals it scanned (the
// runtime grows those by GOGC % too).
var floorMetrics = []string{"/gc/heap/live:bytes", "/gc/scan/stack:bytes", "/gc/scan/globals:bytes"}

// startHeapFloor starts a heapFloor of floor bytes over base (the GOGC it
// never goes under, 100 by default) and returns it; stop ends it and
// puts GOGC back to base.
func startHeapFloor(floor uint64, base int) *heapFloor {
	h := &heapFloor{floor: floor, base: base}
	for _, name := range floorMetrics {
		h.sample = append(h.sample, metrics.Sample{Name: name})
	}
	h.tune()
	h.arm()
	return h
}

// arm runs tune after the next collection: a cleanup of an object that
// nothing references runs once a collection has found it unreachable.
func (h *heapFloor) arm() {
	sentinel := new([16]byte) // not tiny-allocated: freed on its own
	runtime.AddCleanup(sentinel, func(h *heapFloor) {
		if h.stopped.Load() {
			return
		}
		h.tune()
		h.arm()
	}, h)
}

// tune sets GOGC for what the last collection measured.
func (h *heapFloor) tune() {
	metrics.Read(h.sample)
	var v [3]uint64
	for i, s := range h.sample {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	p := floorPercent(v[0], v[1]+v[2], h.floor, h.base)
	if int64(p) != h.percent.Load() {
		debug.SetGCPercent(p)
		h.percent.Store(int64(p))
	}
}

// stop ends the floor: GOGC goes back to base.
func (h *heapFloor) stop() {
	h.stopped.Store(true)
	debug.SetGCPercent(h.base)
}

// floorPercent is the GOGC p whose heap goal is floor: the runtime's goal
// is live + (live + roots)·p/100 (roots: the stacks and globals scanned),
// so p = (floor − live)·100 / (live + roots), rounded up. It is never
// under base, and never over the p at which the runtime's minimum goal
// (heapMinimum·p/100) would pass floor itself, nor maxFloorPercent: before
// the first collection (live 0) the floor is that minimum.
func floorPercent(live, roots, floor uint64, base int) int {
	most := min(floor*100/heapMinimum, maxFloorPercent)
	if live >= floor || most <= uint64(base) {
		return base
	}
	p := most
	if d := live + roots; d > 0 {
		// floor is at most maxHeapFloorMiB MiB (2⁴⁰ B): ·100 fits.
		p = min(((floor-live)*100+d-1)/d, most)
	}
	return max(base, int(p))
}

// maxHeapFloorMiB bounds --gc-heap-floor-mib (1 TiB).
const maxHeapFloorMiB = 1 << 20

// serveHeapFloor starts serve's heap floor of floorMiB MiB, unless it is
// 0 or getenv("GOGC") is set (the operator has chosen), and says so in
// the log. It returns nil when it starts none.
func serveHeapFloor(floorMiB int, getenv func(string) string, log *slog.Logger) *heapFloor {
	if floorMiB == 0 {
		return nil
	}
	if getenv("GOGC") != "" {
		log.Info("GOGC is set: no heap floor (--gc-heap-floor-mib)", "GOGC", getenv("GOGC"))
		return nil
	}
	h := startHeapFloor(uint64(floorMiB)<<20, 100)
	log.Info("garbage collection deferred until the heap reaches the floor (--gc-heap-floor-mib; GOGC=100 above it)", "floor_mib", floorMiB)
	return h
}
