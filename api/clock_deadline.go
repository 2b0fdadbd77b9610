package api

import (
	"context"
	"sync"
	"time"
)

// clockDeadline is the context of a store limit (timedRun, storeDeadline):
// a deadline of its own under a parent, like context.WithDeadline's,
// except that it starts no timer and joins no parent until something
// waits on it. Its Err reads the clock: past the deadline it has ended
// (context.DeadlineExceeded), whether or not anyone watched Done. Only
// Done (or a context derived from it) starts the timer and the parent's
// watch, exactly once.
//
// Why: the embedded store never waits on Done. It checks Err when an
// operation starts and again after waiting for a person's lock, so a
// limit read off the clock bounds it exactly as a timer would, and each
// store operation no longer allocates a timer and a cancellation context
// and registers them with its parent (some 5 % of a gateway claim's CPU
// and an eighth of the bytes a claim allocated). PostgreSQL's driver
// watches Done, so pgstore's operations arm it as before.
//
// The usual contract holds: Done is closed, once, no later than Err first
// returns non-nil; Err never returns non-nil before the deadline unless
// the parent ended or stop was called.
type clockDeadline struct {
	parent   context.Context
	deadline time.Time
	// storeLimit marks a store limit (timedRun, storeDeadline), the only
	// kind storeLimitRanOut reports on; WithDeadlineByClock's is not one.
	storeLimit bool

	mu      sync.Mutex
	done    chan struct{} // nil until Done is called (or it ended first)
	err     error         // nil until it ended
	expired bool          // it ended at its own deadline
	timer   *time.Timer   // armed by Done
	unwatch func() bool   // stops the parent's watch armed by Done
}

// clockDeadlineKey finds the innermost clockDeadline (Value), so that a
// store operation can tell its call's limit ran out (timedRun).
type clockDeadlineKey struct{}

// closedChan is the Done of a clockDeadline that ended before anyone
// asked for Done.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// withClockDeadline returns a context ending at d (or when parent ends)
// and the function that releases it, to be called when the work it
// bounds is over, as context.WithDeadline's cancel is.
func withClockDeadline(parent context.Context, d time.Time) (*clockDeadline, func()) {
	c := &clockDeadline{parent: parent, deadline: d, storeLimit: true}
	return c, c.stop
}

// WithDeadlineByClock is context.WithDeadline for work that seldom waits
// on its context (the national gateway's requests on the embedded
// store): the context ends at d or when parent ends, but starts a timer
// and joins parent only once something waits on its Done; until then its
// Err reads the clock. stop releases it, as context.WithDeadline's cancel
// does, and must be called when the work is over. Running out of it is
// the caller's deadline, not a store limit: the API reports it as such.
func WithDeadlineByClock(parent context.Context, d time.Time) (ctx context.Context, stop context.CancelFunc) {
	c := &clockDeadline{parent: parent, deadline: d}
	return c, c.stop
}

// Deadline is the earlier of the parent's deadline and its own.
func (c *clockDeadline) Deadline() (time.Time, bool) {
	if pd, ok := c.parent.Deadline(); ok && pd.Before(c.deadline) {
		return pd, true
	}
	return c.deadline, true
}

// Done is closed when it ends: at its deadline, when the parent ends, or
// when it is stopped. The first call starts the timer and the parent's
// watch.
func (c *clockDeadline) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	if c.checkLocked() != nil {
		return c.done // checkLocked ended it: done is closedChan
	}
	c.done = make(chan struct{})
	c.timer = time.AfterFunc(time.Until(c.deadline), func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.endLocked(context.DeadlineExceeded, true)
	})
	c.unwatch = context.AfterFunc(c.parent, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.endLocked(c.parent.Err(), false)
	})
	return c.done
}

// Err is why it ended (the parent's error, context.DeadlineExceeded at
// its own deadline, context.Canceled once stopped), nil before.
func (c *clockDeadline) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checkLocked()
}

// Value is the parent's, and c itself for clockDeadlineKey if it is a
// store limit.
func (c *clockDeadline) Value(key any) any {
	if key == (clockDeadlineKey{}) && c.storeLimit {
		return c
	}
	return c.parent.Value(key)
}

// ranOut reports whether it ended at its own deadline (not the parent's,
// nor stopped).
func (c *clockDeadline) ranOut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkLocked()
	return c.expired
}

// stop ends it (context.Canceled if it had not ended) and releases its
// timer and watch.
func (c *clockDeadline) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endLocked(context.Canceled, false)
}

// checkLocked ends it if the parent ended or its deadline passed, and
// returns its error. Call with c.mu held.
func (c *clockDeadline) checkLocked() error {
	if c.err != nil {
		return c.err
	}
	if err := c.parent.Err(); err != nil {
		c.endLocked(err, false)
	} else if !time.Now().Before(c.deadline) {
		c.endLocked(context.DeadlineExceeded, true)
	}
	return c.err
}

// endLocked ends it with err unless it already ended: Done closed, timer
// and watch released. Call with c.mu held.
func (c *clockDeadline) endLocked(err error, expired bool) {
	if c.err != nil {
		return
	}
	c.err, c.expired = err, expired
	if c.done == nil {
		c.done = closedChan
	} else {
		close(c.done)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.unwatch != nil {
		c.unwatch()
	}
}

// storeLimitRanOut reports whether the innermost store limit (a
// clockDeadline made by withClockDeadline) in ctx ended at its own
// deadline.
func storeLimitRanOut(ctx context.Context) bool {
	c, ok := ctx.Value(clockDeadlineKey{}).(*clockDeadline)
	return ok && c.ranOut()
}
