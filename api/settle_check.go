package api

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// ErrSettleCheck marks a settlement refused by the caller's SettleCheck:
// FAILED_PRECONDITION, nothing committed.
var ErrSettleCheck = errors.New("the settlement is not the one the caller expected")

// SettleCheck looks at a settlement's result as Settle computed it under
// the person's lock, before anything is committed. An error (wrap
// ErrSettleCheck) refuses the settlement and nothing changes; a retry of
// a recorded settlement is answered without computing, so without a
// check. It must be pure and fast: it may run on another goroutine, and
// more than once for one call (a store may compute and then discard).
type SettleCheck func(engine.Result) error

// settleCheckKey is the context key of a call's SettleCheck.
type settleCheckKey struct{}

// WithSettleCheck returns ctx carrying check for the Settle and PreSettle
// calls made in-process (Local) with it: the national gateway refuses a
// settlement whose figures differ from the HIS's pre-settlement inside
// the same transaction that would commit it (DECISIONS.md).
func WithSettleCheck(ctx context.Context, check SettleCheck) context.Context {
	return context.WithValue(ctx, settleCheckKey{}, check)
}

// settleCheckFrom is the SettleCheck ctx carries (nil: none).
func settleCheckFrom(ctx context.Context) SettleCheck {
	check, _ := ctx.Value(settleCheckKey{}).(SettleCheck)
	return check
}

// Settled receives the settlement a successful Settle call answers, as
// the store returned it (before the answer is made the first one, so with
// its state now; like Settle's answer, without the claim's items): the
// caller then needs no second read of it.
type Settled func(engine.Settlement)

// settledKey is the context key of a call's Settled.
type settledKey struct{}

// WithSettled returns ctx carrying fn for the Settle calls made
// in-process (Local) with it: the national gateway answers the
// settlement Settle recorded without reading it back (DECISIONS.md
// "National gateway: throughput").
func WithSettled(ctx context.Context, fn Settled) context.Context {
	return context.WithValue(ctx, settledKey{}, fn)
}

// settledFrom is the Settled ctx carries (nil: none).
func settledFrom(ctx context.Context) Settled {
	fn, _ := ctx.Value(settledKey{}).(Settled)
	return fn
}

// visitMarkKey is the context key of a call's VisitMark.
type visitMarkKey struct{}

// WithVisitMark returns ctx carrying mark for the Settle calls made
// in-process (Local) with it: Settle commits through the store's
// SettleVisit, so that the national gateway's visit is settled in the
// settlement's own transaction (DECISIONS.md). A visit that is not open,
// or no longer as the caller read it, refuses the settlement with nothing
// committed (FAILED_PRECONDITION wrapping store.ErrVisitNotOpen); a
// replay of a recorded settlement does not touch the visit. A store that
// keeps no visits answers INTERNAL.
func WithVisitMark(ctx context.Context, mark store.VisitMark) context.Context {
	return context.WithValue(ctx, visitMarkKey{}, mark)
}

// visitMarkFrom is the VisitMark ctx carries, if any.
func visitMarkFrom(ctx context.Context) (store.VisitMark, bool) {
	mark, ok := ctx.Value(visitMarkKey{}).(store.VisitMark)
	return mark, ok
}

// IsVisitNotOpen reports whether err is a Settle call's refusal of its
// VisitMark (WithVisitMark): FAILED_PRECONDITION whose message carries
// store.ErrVisitNotOpen's text. Nothing was committed.
func IsVisitNotOpen(err error) bool {
	if errors.Is(err, store.ErrVisitNotOpen) {
		return true
	}
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.FailedPrecondition && strings.Contains(st.Message(), store.ErrVisitNotOpen.Error())
}
