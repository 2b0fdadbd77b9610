package national

import (
	"encoding/binary"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReplayCache: a value is refused for the whole window and forgotten
// within one bucket after it; the cache never holds more than its
// capacity, and frees it as buckets age out.
func TestReplayCache(t *testing.T) {
	c := newReplayCache(100, 10*time.Minute)
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	if c.add(t0, "a") != replayNew || c.add(t0, "a") != replaySeen {
		t.Fatal("a value seen once is not refused the second time")
	}
	for _, d := range []time.Duration{time.Second, 5 * time.Minute, 10*time.Minute - time.Nanosecond, 10 * time.Minute} {
		if got := c.add(t0.Add(d), "a"); got != replaySeen {
			t.Fatalf("at +%s: %d, want seen", d, got)
		}
	}
	if got := c.add(t0.Add(11*time.Minute), "a"); got != replayNew {
		t.Fatalf("at +11m: %d, want forgotten", got)
	}
	// Capacity.
	c = newReplayCache(50, 10*time.Minute)
	for i := range 50 {
		if c.add(t0.Add(time.Duration(i)*time.Second), strconv.Itoa(i)) != replayNew {
			t.Fatalf("value %d refused below capacity", i)
		}
	}
	if c.add(t0.Add(time.Minute), "new") != replayFull {
		t.Fatal("a full cache took a new value")
	}
	if c.add(t0.Add(time.Minute), "7") != replaySeen {
		t.Fatal("a full cache forgot a value")
	}
	if c.held.Load() != 50 {
		t.Fatalf("held %d", c.held.Load())
	}
	// The first minute's values (0–49 s) age out at +11m: the whole
	// capacity is free again, whichever shards the aged values and the
	// new ones fall in (aged values of a shard no value reached are
	// dropped before a value is refused).
	later := t0.Add(11 * time.Minute)
	for i := range 50 {
		if got := c.add(later, "late"+strconv.Itoa(i)); got != replayNew {
			t.Fatalf("after the window, value %d of 50: %d, want new", i, got)
		}
	}
	if c.add(later, "late50") != replayFull || c.held.Load() != 50 {
		t.Fatalf("after the window, the 51st value: held %d, want full at 50", c.held.Load())
	}
	if c.add(later, "7") != replayFull {
		t.Fatal("an aged-out value was remembered")
	}
	// The clock going backwards keeps values, never drops them early.
	c = newReplayCache(10, 10*time.Minute)
	c.add(t0, "x")
	if c.add(t0.Add(-time.Hour), "x") != replaySeen {
		t.Fatal("a value was forgotten when the clock went back")
	}
	for i := range 20 {
		c.add(t0.Add(-time.Duration(i)*time.Minute), "y"+strconv.Itoa(i))
	}
	if c.held.Load() > 10 {
		t.Fatalf("held %d over capacity 10", c.held.Load())
	}
}

// TestReplayCacheConcurrent: goroutines checking values at once across
// the shards get exactly capacity values taken and the rest refused as
// full, every value at most once, and a value taken is seen by all.
func TestReplayCacheConcurrent(t *testing.T) {
	const capacity, workers, each = 1000, 8, 500
	c := newReplayCache(capacity, 10*time.Minute)
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	var taken, full atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				switch c.add(t0, strconv.Itoa(w*each+i)) {
				case replayNew:
					taken.Add(1)
				case replayFull:
					full.Add(1)
				default:
					t.Errorf("value %d seen before it was added", w*each+i)
				}
			}
		}()
	}
	wg.Wait()
	if taken.Load() != capacity || full.Load() != workers*each-capacity || c.held.Load() != capacity {
		t.Fatalf("taken %d, full %d, held %d; want %d, %d, %d", taken.Load(), full.Load(), c.held.Load(), capacity, workers*each-capacity, capacity)
	}
	seen := 0
	for v := range workers * each {
		if c.add(t0, strconv.Itoa(v)) == replaySeen {
			seen++
		}
	}
	if seen != capacity {
		t.Fatalf("%d values seen again, want the %d taken", seen, capacity)
	}
}

// checkReplayIndex fails unless every shard's index holds exactly the
// values its live buckets count, each pointing at a live bucket, and the
// cache's count is their sum.
func checkReplayIndex(t *testing.T, c *replayCache) {
	t.Helper()
	var total int64
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		var per [replayBuckets + 1]int64
		for h, place := range sh.index {
			if int(place) >= len(sh.buckets) || sh.buckets[place].start.IsZero() {
				sh.mu.Unlock()
				t.Fatalf("shard %d: value %x in place %d, which holds no bucket", i, h, place)
			}
			if int(h[0]%replayShards) != i {
				sh.mu.Unlock()
				t.Fatalf("value %x in shard %d, not its own", h, i)
			}
			per[place]++
		}
		for j, b := range sh.buckets {
			if b.n != per[j] || (b.start.IsZero() && b.n != 0) {
				sh.mu.Unlock()
				t.Fatalf("shard %d bucket %d counts %d values, its index holds %d", i, j, b.n, per[j])
			}
			total += b.n
		}
		sh.mu.Unlock()
	}
	if held := c.held.Load(); held != total {
		t.Fatalf("held %d, the buckets count %d", held, total)
	}
}

// TestReplayIndexAgainstModel: on a clock that never goes back, the cache
// answers what the rule says, step by step: a value is seen while the
// bucket of the time it was taken is in the window (its span's end plus
// the window not yet reached), a new value is full when as many values
// are live as the capacity, and the index holds exactly the live values.
func TestReplayIndexAgainstModel(t *testing.T) {
	const capacity, values = 40, 120
	window := 10 * time.Minute
	span := window / replayBuckets
	c := newReplayCache(capacity, window)
	taken := map[string]time.Time{} // value → start of the span it was taken in
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	rnd := uint64(1)
	next := func(n uint64) uint64 { rnd = rnd*6364136223846793005 + 1442695040888963407; return (rnd >> 33) % n }
	live := func(v string) bool {
		at, ok := taken[v]
		return ok && at.Add(span+window).After(now)
	}
	var seen, fresh, full int
	for step := range 20000 {
		switch next(10) {
		case 0:
			now = now.Add(time.Duration(next(3*60_000)+1) * time.Millisecond) // up to 3 spans
		case 1, 2:
			now = now.Add(time.Duration(next(10_000)) * time.Millisecond)
		}
		v := "v" + strconv.Itoa(int(next(values)))
		want := replayNew
		switch {
		case live(v):
			want = replaySeen
		default:
			n := 0
			for w := range taken {
				if live(w) {
					n++
				}
			}
			if n >= capacity {
				want = replayFull
			}
		}
		got := c.add(now, v)
		if got != want {
			t.Fatalf("step %d, %s at %s: %d, want %d", step, v, now, got, want)
		}
		switch got {
		case replayNew:
			taken[v] = now.Truncate(span)
			fresh++
		case replaySeen:
			seen++
		case replayFull:
			full++
		}
		if step%97 == 0 {
			checkReplayIndex(t, c)
		}
	}
	checkReplayIndex(t, c)
	if seen == 0 || fresh == 0 || full == 0 {
		t.Fatalf("the walk did not reach every answer: %d seen, %d new, %d full", seen, fresh, full)
	}
}

// TestReplayIndexForgetsOnlyAgedBuckets: when one bucket ages out, its
// values are forgotten and the later buckets' are still seen, in every
// shard; a bucket's place taken again by a later span does not bring back
// the values it held before.
func TestReplayIndexForgetsOnlyAgedBuckets(t *testing.T) {
	c := newReplayCache(100_000, 10*time.Minute)
	t0 := time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)
	for i := range 500 {
		if c.add(t0, "early"+strconv.Itoa(i)) != replayNew || c.add(t0.Add(time.Minute), "late"+strconv.Itoa(i)) != replayNew {
			t.Fatalf("value %d refused", i)
		}
	}
	checkReplayIndex(t, c)
	// At +11m the first minute has aged out, the second has not (it does
	// at +12m).
	at := t0.Add(11 * time.Minute)
	for i := range 500 {
		if got := c.add(at, "late"+strconv.Itoa(i)); got != replaySeen {
			t.Fatalf("late%d at +11m: %d, want seen", i, got)
		}
	}
	for i := range 500 {
		if got := c.add(at, "early"+strconv.Itoa(i)); got != replayNew {
			t.Fatalf("early%d at +11m: %d, want forgotten", i, got)
		}
	}
	checkReplayIndex(t, c)
	if c.held.Load() != 1000 {
		t.Fatalf("held %d, want 1000 (500 late, 500 early taken again)", c.held.Load())
	}
	// Just before +12m the second minute is still held; at +12m it goes.
	if got := c.add(t0.Add(12*time.Minute-time.Nanosecond), "late7"); got != replaySeen {
		t.Fatalf("late7 just before +12m: %d, want seen", got)
	}
	if got := c.add(t0.Add(12*time.Minute), "late7"); got != replayNew {
		t.Fatalf("late7 at +12m: %d, want forgotten", got)
	}
	checkReplayIndex(t, c)
}

// TestReplayIndexClockBack: values taken while the clock goes back and
// forth are never forgotten within the window of when they were taken,
// the cache never holds more than its capacity, and the index stays
// exact.
func TestReplayIndexClockBack(t *testing.T) {
	c := newReplayCache(60, 10*time.Minute)
	t0 := time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)
	taken := map[string]time.Time{}
	for i := range 400 {
		// Back and forth over 40 minutes, in steps of 7 minutes.
		now := t0.Add(time.Duration((i*7)%40) * time.Minute)
		v := "v" + strconv.Itoa(i%90)
		got := c.add(now, v)
		if at, ok := taken[v]; ok && now.Sub(at) < 10*time.Minute && now.Sub(at) >= 0 && got != replaySeen {
			t.Fatalf("step %d: %s taken at %s answered %d at %s, want seen", i, v, at, got, now)
		}
		if got == replayNew {
			taken[v] = now
		}
		if h := c.held.Load(); h > 60 {
			t.Fatalf("step %d: held %d over capacity 60", i, h)
		}
		checkReplayIndex(t, c)
	}
}

// BenchmarkReplayAddFull is a new value checked against a cache holding
// a million values spread over the window's ten minutes (as the load
// test's cache holds them): the cost of the check that every request
// pays.
func BenchmarkReplayAddFull(b *testing.B) {
	const held = 1 << 20
	c := newReplayCache(1<<26, ReplayWindow)
	t0 := time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC)
	var k [16]byte
	for i := range held {
		binary.LittleEndian.PutUint64(k[:], uint64(i)*0x9e3779b97f4a7c15)
		c.addHash(t0.Add(time.Duration(i)*(9*time.Minute)/held), k)
	}
	now := t0.Add(9*time.Minute + 30*time.Second)
	b.ReportAllocs()
	i := held
	for b.Loop() {
		binary.LittleEndian.PutUint64(k[:], uint64(i)*0x9e3779b97f4a7c15)
		if c.addHash(now, k) != replayNew {
			b.Fatal("a new value refused")
		}
		i++
	}
}
