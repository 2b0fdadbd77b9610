package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// SettleVisitsAsGroup settles the claims as one group, in order, with
// marks[i] for claim i (nil: a plain Settle), and answers each as its
// caller would (a claim handed back settles by itself).
func SettleVisitsAsGroup(ctx context.Context, s *Store, claims []engine.Claim, computes []store.ComputeFunc, marks []*store.VisitMark) ([]engine.Settlement, []error) {
	calls := make([]*settleCall, len(claims))
	for i := range claims {
		calls[i] = &settleCall{ctx: ctx, claim: claims[i], compute: computes[i], mark: marks[i], done: make(chan settleAnswer, 1)}
		calls[i].take()
	}
	s.settleGroup(calls)
	sts, errs := make([]engine.Settlement, len(claims)), make([]error, len(claims))
	for i, c := range calls {
		a := <-c.done
		if a.alone {
			a.st, a.err = s.settleOneMarked(ctx, claims[i], computes[i], marks[i])
		}
		sts[i], errs[i] = a.st, a.err
	}
	return sts, errs
}

// QueryRow runs a query of one row, written with {s} for the schema.
func QueryRow(ctx context.Context, s *Store, sql string, args ...any) pgx.Row {
	return s.pool.QueryRow(ctx, s.sql(sql), args...)
}
