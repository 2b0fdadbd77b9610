package national

import (
	"strconv"
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
	if c.held != 50 {
		t.Fatalf("held %d", c.held)
	}
	// The first minute's values (0–52 s) age out at +11m; the rest later.
	if c.add(t0.Add(11*time.Minute), "new") != replayNew || c.held != 1 {
		t.Fatalf("after the window: held %d", c.held)
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
	if c.held > 10 {
		t.Fatalf("held %d over capacity 10", c.held)
	}
}
