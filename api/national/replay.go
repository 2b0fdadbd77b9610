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
// refused. A shard finds a value in one index of all its buckets' values
// (replayShard.index), so that checking a new value is one lookup, not
// one per bucket.
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
	// index holds every value of the shard's live buckets, each with the
	// bucket (its place in buckets) it was seen in. A bucket's values
	// leave it when the bucket is dropped (forget), before the bucket's
	// place takes another span's values, so a value in index is one seen
	// in a bucket that has not aged out.
	index map[[16]byte]uint8
	_     [64]byte
}

// replayBucket is one span of time of a shard: when it starts and how
// many values (in the shard's index) were seen in it.
type replayBucket struct {
	start time.Time // zero: unused
	n     int64
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
	cur := -1
	var dropped replayPlaces
	for i := range sh.buckets {
		b := &sh.buckets[i]
		if b.start.IsZero() {
			continue
		}
		if c.dropAged(b, now) {
			dropped |= 1 << i
			continue
		}
		if b.start.Equal(start) {
			cur = i
		}
	}
	sh.forget(dropped)
	if _, ok := sh.index[h]; ok {
		return replaySeen
	}
	if c.held.Add(1) > c.capacity {
		c.held.Add(-1)
		return replayFull
	}
	if cur < 0 {
		for i := range sh.buckets {
			if sh.buckets[i].start.IsZero() {
				cur = i
				sh.buckets[i] = replayBucket{start: start}
				break
			}
		}
	}
	if cur < 0 {
		// Every bucket is live (the clock went backwards): the newest
		// bucket takes the value, which is kept as long as it is.
		cur = 0
		for i := range sh.buckets {
			if sh.buckets[i].start.After(sh.buckets[cur].start) {
				cur = i
			}
		}
	}
	if sh.index == nil {
		sh.index = map[[16]byte]uint8{}
	}
	sh.index[h] = uint8(cur)
	sh.buckets[cur].n++
	return replayNew
}

// replayPlaces is a set of places in a shard's buckets, one bit each.
type replayPlaces uint16

// The places of a shard's buckets must fit a replayPlaces, and a place
// sh.index's uint8.
var _ = [16 - (replayBuckets + 1)]struct{}{}

// forget removes from the index the values of the buckets at the places
// dropped (dropAged has dropped them). Call with sh's mutex held.
func (sh *replayShard) forget(dropped replayPlaces) {
	if dropped == 0 {
		return
	}
	for h, place := range sh.index {
		if dropped&(1<<place) != 0 {
			delete(sh.index, h)
		}
	}
}

// dropAged drops b, and reports it, if every value of it has aged past
// the window at now; its values must then leave the shard's index
// (forget). Call with b's shard's mutex held.
func (c *replayCache) dropAged(b *replayBucket, now time.Time) bool {
	if b.start.Add(c.span).Add(c.span * replayBuckets).After(now) {
		return false
	}
	c.held.Add(-b.n)
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
		var dropped replayPlaces
		for j := range sh.buckets {
			if b := &sh.buckets[j]; !b.start.IsZero() && c.dropAged(b, now) {
				dropped |= 1 << j
			}
		}
		sh.forget(dropped)
		sh.mu.Unlock()
	}
	return true
}
