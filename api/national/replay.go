package national

import (
	"crypto/sha256"
	"sync"
	"time"
)

// replayBuckets is how many time buckets a replay cache's window is cut
// into: a value is forgotten between window and window × (1 + 1/buckets)
// after it was seen, never earlier.
const replayBuckets = 10

// replayCache remembers the values (nonces, csb triples) seen in the last
// window, in bounded memory: each value as a 128-bit hash, in the bucket
// of the time it was seen; a bucket is dropped whole once all of it is
// older than window. When capacity values are held, new values are
// refused (full) rather than old ones forgotten early, which would let
// them be replayed.
type replayCache struct {
	mu       sync.Mutex
	capacity int
	span     time.Duration // of one bucket
	buckets  [replayBuckets + 1]replayBucket
	held     int
}

// replayBucket holds the values seen in one span of time.
type replayBucket struct {
	start time.Time // zero: unused
	seen  map[[16]byte]struct{}
}

// replayOutcome is what add answers.
type replayOutcome int

const (
	replayNew replayOutcome = iota
	replaySeen
	replayFull
)

func newReplayCache(capacity int, window time.Duration) *replayCache {
	return &replayCache{capacity: capacity, span: window / replayBuckets}
}

// add records value as seen at now, unless it was seen within the window
// (replaySeen) or the cache is full (replayFull); only replayNew records.
func (c *replayCache) add(now time.Time, value string) replayOutcome {
	sum := sha256.Sum256([]byte(value))
	return c.addHash(now, [16]byte(sum[:16]))
}

// addHash is add of a value by its hash: the first 16 bytes of its
// SHA-256 (replayKey).
func (c *replayCache) addHash(now time.Time, h [16]byte) replayOutcome {
	start := now.Truncate(c.span)
	c.mu.Lock()
	defer c.mu.Unlock()
	// Drop the buckets whose every value has aged past the window.
	var cur *replayBucket
	for i := range c.buckets {
		b := &c.buckets[i]
		if b.start.IsZero() {
			continue
		}
		if !b.start.Add(c.span).Add(c.span * replayBuckets).After(now) {
			c.held -= len(b.seen)
			*b = replayBucket{}
			continue
		}
		if _, ok := b.seen[h]; ok {
			return replaySeen
		}
		if b.start.Equal(start) {
			cur = b
		}
	}
	if c.held >= c.capacity {
		return replayFull
	}
	if cur == nil {
		for i := range c.buckets {
			if c.buckets[i].start.IsZero() {
				cur = &c.buckets[i]
				cur.start, cur.seen = start, map[[16]byte]struct{}{}
				break
			}
		}
	}
	if cur == nil {
		// Every bucket is live (the clock went backwards): the newest
		// bucket takes the value, which is kept as long as it is.
		cur = &c.buckets[0]
		for i := range c.buckets {
			if c.buckets[i].start.After(cur.start) {
				cur = &c.buckets[i]
			}
		}
	}
	cur.seen[h] = struct{}{}
	c.held++
	return replayNew
}
