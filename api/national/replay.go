package national

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"
)

// replayBuckets is how many time buckets a replay cache's window is cut
// into: a value is forgotten between window and window × (1 + 1/buckets)
// after it was seen, never earlier.
const replayBuckets = 10

// replayCache remembers the values (nonces, csb triples) seen in the last
// window, in bounded memory: each value as a 128-bit hash, in the bucket
// of the time it was seen, in the shard of its hash (replayShards); a
// bucket is dropped whole once all of it is older than window. When
// capacity values are held, new values are refused (full) rather than old
// ones forgotten early, which would let them be replayed; the aged-out
// buckets of every shard are dropped (once per span) before a value is
// refused.
type replayCache struct {
	capacity int64
	span     time.Duration // of one bucket
	// held is how many values the shards hold, together: the capacity
	// bounds the whole cache, not each shard.
	held atomic.Int64
	// swept is the span (its start, in Unix nanoseconds) of the last
	// sweep of every shard (sweep).
	swept  atomic.Int64
	shards [replayShards]replayShard
}

// replayShards is how many shards a replay cache has, each its own mutex
// and buckets: a value goes to the shard of its hash's first byte, so
// that the requests of many connections checking their nonces at once
// seldom wait for each other (a power of two, at most 256).
const replayShards = 16

// replayShard is the buckets of the values of one shard, padded to a
// line of the processor's cache so that two shards' mutexes never share
// one.
type replayShard struct {
	mu      sync.Mutex
	buckets [replayBuckets + 1]replayBucket
	_       [64]byte
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
	return &replayCache{capacity: int64(capacity), span: window / replayBuckets}
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
	sh := &c.shards[h[0]%replayShards]
	out := c.addIn(sh, now, h)
	if out == replayFull && c.sweep(now) {
		// The count may include the aged-out values of shards no value
		// went to since: they are dropped before a value is refused.
		out = c.addIn(sh, now, h)
	}
	return out
}

// addIn is addHash in shard sh, which is h's.
func (c *replayCache) addIn(sh *replayShard, now time.Time, h [16]byte) replayOutcome {
	start := now.Truncate(c.span)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	// Drop the buckets whose every value has aged past the window.
	var cur *replayBucket
	for i := range sh.buckets {
		b := &sh.buckets[i]
		if b.start.IsZero() {
			continue
		}
		if c.dropAged(b, now) {
			continue
		}
		if _, ok := b.seen[h]; ok {
			return replaySeen
		}
		if b.start.Equal(start) {
			cur = b
		}
	}
	if c.held.Add(1) > c.capacity {
		c.held.Add(-1)
		return replayFull
	}
	if cur == nil {
		for i := range sh.buckets {
			if sh.buckets[i].start.IsZero() {
				cur = &sh.buckets[i]
				cur.start, cur.seen = start, map[[16]byte]struct{}{}
				break
			}
		}
	}
	if cur == nil {
		// Every bucket is live (the clock went backwards): the newest
		// bucket takes the value, which is kept as long as it is.
		cur = &sh.buckets[0]
		for i := range sh.buckets {
			if sh.buckets[i].start.After(cur.start) {
				cur = &sh.buckets[i]
			}
		}
	}
	cur.seen[h] = struct{}{}
	return replayNew
}

// dropAged drops b, and reports it, if every value of it has aged past
// the window at now. Call with b's shard's mutex held.
func (c *replayCache) dropAged(b *replayBucket, now time.Time) bool {
	if b.start.Add(c.span).Add(c.span * replayBuckets).After(now) {
		return false
	}
	c.held.Add(-int64(len(b.seen)))
	*b = replayBucket{}
	return true
}

// sweep drops the aged-out buckets of every shard, one shard at a time,
// and reports whether it did: at most once per span of the clock (a
// bucket ages out only when the clock crosses a span's end, so a second
// sweep within one span would find nothing more), so that a flood of
// refused values does not take every shard's mutex each.
func (c *replayCache) sweep(now time.Time) bool {
	span := now.Truncate(c.span).UnixNano()
	last := c.swept.Load()
	if last == span || !c.swept.CompareAndSwap(last, span) {
		return false
	}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for j := range sh.buckets {
			if b := &sh.buckets[j]; !b.start.IsZero() {
				c.dropAged(b, now)
			}
		}
		sh.mu.Unlock()
	}
	return true
}
