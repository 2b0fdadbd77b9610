package national

import (
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
