package pgstore

import (
	"sync"
	"sync/atomic"
)

// Group commit: calls that arrive together share one transaction, and so
// one WAL flush. There is no timer: a call that finds a free runner is
// taken at once (a lone call never waits), and calls that arrive while
// every runner is busy queue; a runner that finishes takes everything
// queued, up to the batch size, in arrival order.

// Where a queued call is: waiting, taken by a batch (the batch decides its
// outcome), or left by its caller before any batch took it (no effect).
const (
	callWaiting int32 = iota
	callTaken
	callLeft
)

// queuedCall is the part of a call the queue manages.
type queuedCall struct{ state atomic.Int32 }

// take moves a waiting call into a batch; false if its caller has left.
func (c *queuedCall) take() bool { return c.state.CompareAndSwap(callWaiting, callTaken) }

// leave withdraws a call whose caller gives up; false if a batch has taken
// it already (the batch then decides its outcome).
func (c *queuedCall) leave() bool { return c.state.CompareAndSwap(callWaiting, callLeft) }

// groupQueue hands the calls added to it to run in batches of at most
// maxBatch, with at most runners batches running at once.
type groupQueue[T interface{ take() bool }] struct {
	maxBatch, runners int
	run               func(batch []T)

	mu      sync.Mutex
	waiting []T
	running int
}

// newGroupQueue returns a queue that calls run on batches of at most
// maxBatch calls, at most runners at a time.
func newGroupQueue[T interface{ take() bool }](maxBatch, runners int, run func([]T)) *groupQueue[T] {
	return &groupQueue[T]{maxBatch: max(maxBatch, 1), runners: max(runners, 1), run: run}
}

// add queues c, and starts a runner if fewer than runners are running.
func (q *groupQueue[T]) add(c T) {
	q.mu.Lock()
	q.waiting = append(q.waiting, c)
	start := q.running < q.runners
	if start {
		q.running++
	}
	q.mu.Unlock()
	if start {
		go q.loop()
	}
}

// loop runs batches until nothing waits.
func (q *groupQueue[T]) loop() {
	for {
		batch := q.next()
		if batch == nil {
			return
		}
		q.run(batch)
	}
}

// next takes the next batch: up to maxBatch waiting calls whose callers
// are still there, in arrival order; nil (and one runner fewer) when none
// waits.
func (q *groupQueue[T]) next() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.waiting) > 0 {
		n := min(len(q.waiting), q.maxBatch)
		batch := make([]T, 0, n)
		for _, c := range q.waiting[:n] {
			if c.take() {
				batch = append(batch, c)
			}
		}
		// The taken calls leave the front; append reallocates the
		// backlog when it needs room, so nothing is copied per batch.
		clear(q.waiting[:n])
		q.waiting = q.waiting[n:]
		if len(batch) > 0 {
			return batch
		}
	}
	q.running--
	return nil
}
