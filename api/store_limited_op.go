package api

import (
	"context"
	"time"
)

// limitedOp is one store operation under its limit: timedRun in halves,
// beginLimited before the operation and fail and release after it. The
// settlements (timedStore.Settle, timedVisitStore.SettleVisit) run them
// around the store's call themselves: through timed's closure a
// settlement (some 540 bytes) was copied through three more frames, 4.5 KiB
// of every Settle's stack.
type limitedOp struct {
	// parent is the caller's context.
	parent context.Context
	// own is the operation's own limit; nil when it has none (no limit,
	// or the parent's deadline already bounds it).
	own *clockDeadline
	// limited is false when the operation has no limit at all.
	limited bool
	limit   time.Duration
	op      string
}

// beginLimited starts op under limit (a negative one: none) and returns
// the context to run it with: ctx, or ctx with a deadline of the
// operation's own (a clockDeadline: no timer unless the store waits on
// Done) when ctx would not end within limit. Call release when the
// operation is over.
func beginLimited(ctx context.Context, limit time.Duration, op string) (limitedOp, context.Context) {
	o := limitedOp{parent: ctx, limited: limit >= 0, limit: limit, op: op}
	if !o.limited {
		return o, ctx
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= limit {
		return o, ctx
	}
	o.own = newStoreLimit(ctx, time.Now().Add(limit))
	return o, o.own
}

// fail is what the operation answers for its error err: a
// storeTimeoutError when err came of its limit running out, its own
// deadline's (and not the caller's), or, when the caller's context bounded
// it, the call's store deadline (storeDeadline); err as it is otherwise.
func (o limitedOp) fail(err error) error {
	if err == nil || !o.limited {
		return err
	}
	if o.own == nil {
		if storeLimitRanOut(o.parent) && timeoutError(err) {
			return &storeTimeoutError{op: o.op, limit: o.limit, err: err}
		}
		return err
	}
	if o.parent.Err() == nil && o.own.ranOut() && timeoutError(err) {
		return &storeTimeoutError{op: o.op, limit: o.limit, err: err}
	}
	return err
}

// release ends the operation's own limit, if it has one.
func (o limitedOp) release() {
	if o.own != nil {
		o.own.stop()
	}
}
