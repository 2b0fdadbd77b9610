package api

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// clockDeadline is the context of a store limit (timedRun, storeDeadline):
// a deadline of its own under a parent, like context.WithDeadline's,
// except that it starts no timer and joins no parent until something
// waits on it. Its Err reads the clock: past the deadline it has ended
// (context.DeadlineExceeded), whether or not anyone watched Done. The
// first call of Done (made by anything that waits on it, a context
// derived from it included) arms it: from then on it is a real
// context.WithDeadlineCause, whose Done, Err, cause and children are the
// standard library's.
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
// the parent ended or stop was called, and never changes once non-nil.
// One difference: context.Cause of one that ended before it was armed is
// what the parent's chain says (nil while the parent runs), not its own
// error. Nothing here calls context.Cause on a store context (pgx, grpc
// and the stores use Done and Err); storeLimitRanOut is what tells a store
// limit that ran out.
type clockDeadline struct {
	parent   context.Context
	deadline time.Time
	// storeLimit marks a store limit (timedRun, storeDeadline), the only
	// kind storeLimitRanOut reports on; WithDeadlineByClock's is not one.
	storeLimit bool

	// armed is the real context once Done was called, nil before; Value
	// reads it without the mutex.
	armed atomic.Pointer[armedDeadline]

	mu      sync.Mutex
	err     error // why it ended before it was armed; nil while running
	expired bool  // it ended at its own deadline before it was armed
}

// armedDeadline is a clockDeadline's real context, once armed.
type armedDeadline struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// errRanOut is the cause of an armed clockDeadline that reached its own
// deadline.
var errRanOut = errors.New("store limit ran out")

// clockDeadlineKey finds the innermost store limit (Value), so that a
// store operation can tell its call's limit ran out (timedRun).
type clockDeadlineKey struct{}

// closedChan is the Done of a clockDeadline that ended before anyone
// asked for Done.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// withClockDeadline returns a store limit ending at d (or when parent
// ends) and the function that releases it, to be called when the work
// it bounds is over, as context.WithDeadline's cancel is.
func withClockDeadline(parent context.Context, d time.Time) (*clockDeadline, func()) {
	c := newStoreLimit(parent, d)
	return c, c.stop
}

// newStoreLimit is withClockDeadline without its release function: the
// caller calls stop itself, and a settlement call's limit (storeDeadline)
// allocates no method value for it.
func newStoreLimit(parent context.Context, d time.Time) *clockDeadline {
	return &clockDeadline{parent: parent, deadline: d, storeLimit: true}
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
// when it is stopped. The first call arms it (a real
// context.WithDeadlineCause), unless it already ended.
func (c *clockDeadline) Done() <-chan struct{} {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Done()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.armed.Load(); a != nil {
		return a.ctx.Done()
	}
	if c.checkLocked() != nil {
		return closedChan
	}
	ctx, cancel := context.WithDeadlineCause(c.parent, c.deadline, errRanOut)
	c.armed.Store(&armedDeadline{ctx: ctx, cancel: cancel})
	return ctx.Done()
}

// Err is why it ended (the parent's error, context.DeadlineExceeded at
// its own deadline, context.Canceled once stopped), nil before.
func (c *clockDeadline) Err() error {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.armed.Load(); a != nil {
		return a.ctx.Err()
	}
	return c.checkLocked()
}

// Value is c itself for clockDeadlineKey if it is a store limit, else the
// armed context's value (so that the standard library finds it as a
// cancel context and context.Cause its cause), else the parent's.
func (c *clockDeadline) Value(key any) any {
	if key == (clockDeadlineKey{}) && c.storeLimit {
		return c
	}
	if a := c.armed.Load(); a != nil {
		return a.ctx.Value(key)
	}
	return c.parent.Value(key)
}

// ranOut reports whether it ended at its own deadline (not the parent's,
// nor stopped).
func (c *clockDeadline) ranOut() bool {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Err() != nil && errors.Is(context.Cause(a.ctx), errRanOut)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.armed.Load(); a != nil {
		return a.ctx.Err() != nil && errors.Is(context.Cause(a.ctx), errRanOut)
	}
	c.checkLocked()
	return c.expired
}

// stop ends it (context.Canceled if it had not ended) and releases what
// arming it took.
func (c *clockDeadline) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.armed.Load(); a != nil {
		a.cancel()
		return
	}
	if c.err == nil {
		c.err = context.Canceled
	}
}

// checkLocked ends it, unarmed, if the parent ended or its deadline
// passed, and returns its error. When both happened unobserved, the one
// that came first decides, as the timers would have: its own deadline if
// the parent ran out of a later one. Call with c.mu held.
func (c *clockDeadline) checkLocked() error {
	if c.err != nil {
		return c.err
	}
	passed := !time.Now().Before(c.deadline)
	if perr := c.parent.Err(); perr != nil {
		pd, ok := c.parent.Deadline()
		if passed && errors.Is(perr, context.DeadlineExceeded) && ok && c.deadline.Before(pd) {
			c.err, c.expired = context.DeadlineExceeded, true
		} else {
			c.err = perr
		}
	} else if passed {
		c.err, c.expired = context.DeadlineExceeded, true
	}
	return c.err
}

// storeLimitRanOut reports whether the innermost store limit (a
// clockDeadline made by withClockDeadline) in ctx ended at its own
// deadline.
func storeLimitRanOut(ctx context.Context) bool {
	c, ok := ctx.Value(clockDeadlineKey{}).(*clockDeadline)
	return ok && c.ranOut()
}
