package main

import (
	"bytes"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

func TestFloorPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name               string
		live, roots, floor uint64
		base, want         int
	}{
		{"live over the floor", 300 * mib, mib, 256 * mib, 100, 100},
		{"live at the floor", 256 * mib, 0, 256 * mib, 100, 100},
		// (256 − 20)·100 / 21 = 1123.8…, rounded up: the goal is then
		// 20 + 21·1124/100 = 256.04 MiB, at the floor, not under.
		{"small live heap", 20 * mib, mib, 256 * mib, 100, 1124},
		{"no roots", 64 * mib, 0, 256 * mib, 100, 300},
		{"never under base", 200 * mib, 0, 256 * mib, 100, 100},
		{"base above", 20 * mib, mib, 256 * mib, 2000, 2000},
		// The runtime's minimum goal, 4 MiB·p/100, caps p at 6,400 for
		// 256 MiB: before the first collection that minimum is the floor.
		{"before the first collection", 0, 0, 256 * mib, 100, 6400},
		{"tiny live heap", 1 << 10, 1 << 10, 256 * mib, 100, 6400},
		{"floor under the runtime's minimum", mib, 0, 2 * mib, 100, 100},
		{"huge floor capped", mib, 0, 1 << 40, 100, maxFloorPercent},
	} {
		if got := floorPercent(c.live, c.roots, c.floor, c.base); got != c.want {
			t.Errorf("%s: floorPercent(%d, %d, %d, %d) = %d, want %d", c.name, c.live, c.roots, c.floor, c.base, got, c.want)
		}
	}
}

// TestHeapFloorFollowsCollections runs a floor in this process: after a
// collection it sets the GOGC floorPercent gives for what the collection
// measured, again after the next one (it re-arms), and stop puts GOGC
// back.
func TestHeapFloorFollowsCollections(t *testing.T) {
	const floor = 512 << 20
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	h := startHeapFloor(floor, 100)
	defer h.stop()

	expect := func() int {
		s := make([]metrics.Sample, len(floorMetrics))
		for i, name := range floorMetrics {
			s[i].Name = name
		}
		metrics.Read(s)
		return floorPercent(s[0].Value.Uint64(), s[1].Value.Uint64()+s[2].Value.Uint64(), floor, 100)
	}
	await := func(what string) int {
		t.Helper()
		runtime.GC()
		// Against the last collection's figures each time round: the
		// runtime may collect again before the floor has tuned.
		deadline := time.Now().Add(5 * time.Second)
		for {
			want := expect()
			if int(h.percent.Load()) == want {
				return want
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: GOGC %d after a collection, want %d", what, h.percent.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	small := await("small heap")
	if small <= 100 {
		t.Fatalf("a test binary's live heap is far under 512 MiB, yet GOGC %d", small)
	}
	kept := make([]byte, 96<<20) // live across the next collection
	for i := range kept {
		kept[i] = 1
	}
	larger := await("after 96 MiB more live")
	runtime.KeepAlive(kept)
	if larger >= small {
		t.Fatalf("GOGC %d with 96 MiB more live, %d before: it should have fallen", larger, small)
	}
	h.stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC %d after stop, want 100", got)
	}
}

func TestServeHeapFloor(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	if h := serveHeapFloor(0, func(string) string { return "" }, log); h != nil {
		t.Fatal("--gc-heap-floor-mib 0 started a floor")
	}
	env := func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	}
	if h := serveHeapFloor(256, env, log); h != nil {
		h.stop()
		t.Fatal("GOGC set, yet a floor started")
	}
	if !strings.Contains(buf.String(), "GOGC is set") {
		t.Fatalf("log does not say why there is no floor: %q", buf.String())
	}
	h := serveHeapFloor(256, func(string) string { return "" }, log)
	if h == nil {
		t.Fatal("no floor started")
	}
	h.stop()
	if !strings.Contains(buf.String(), "floor_mib=256") {
		t.Fatalf("log does not give the floor: %q", buf.String())
	}
}

func TestServeFlagsHeapFloor(t *testing.T) {
	f, err := parseServeFlags(nil, &bytes.Buffer{})
	if err != nil || f.gcHeapFloorMiB != defaultHeapFloorMiB {
		t.Fatalf("default: %d, %v; want %d", f.gcHeapFloorMiB, err, defaultHeapFloorMiB)
	}
	for _, bad := range []string{"-1", "1048577"} {
		_, err := parseServeFlags([]string{"--gc-heap-floor-mib", bad}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "--gc-heap-floor-mib must be between 0 (off) and 1048576") {
			t.Errorf("--gc-heap-floor-mib %s: %v", bad, err)
		}
	}
}
