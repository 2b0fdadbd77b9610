package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSettledWithinBounds: for deltas shaped as Settle's (one visit type,
// at most one cap pool), settledWithinBounds answers as withinBounds does,
// over accumulators whose figures sit at and around MaxTotal and the
// int64 range, with pools named and unnamed, held and not.
func TestSettledWithinBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	figures := []int64{0, 1, maxTotalFen / 2, maxTotalFen - 1, maxTotalFen, maxTotalFen + 1, math.MaxInt64, -3}
	fig := func() Money { return Money{figures[r.IntN(len(figures))]} }
	names := []string{"", "basic", "special"}
	visits := append([]VisitType{VisitType(99)}, VisitTypes...)
	trues := 0
	for range 200_000 {
		acc := Accumulators{CatastrophicBase: fig(), AidPaid: fig()}
		if r.IntN(4) > 0 {
			acc.VisitTypes = map[VisitType]VisitAccumulator{}
			for _, v := range visits {
				if r.IntN(3) == 0 {
					acc.VisitTypes[v] = VisitAccumulator{InScope: fig(), DeductiblePaid: fig()}
				}
			}
		}
		if r.IntN(4) > 0 {
			acc.PoolUsed = map[string]Money{}
			for _, n := range names {
				if r.IntN(2) == 0 {
					acc.PoolUsed[n] = fig()
				}
			}
		}
		vt := visits[r.IntN(len(visits))]
		pool := names[r.IntN(len(names))]
		var res Result
		res.Breakdown.Total = fig()
		res.Delta.VisitTypes = map[VisitType]VisitAccumulator{vt: {InScope: fig(), DeductiblePaid: fig()}}
		if pool != "" {
			res.Delta.PoolUsed = map[string]Money{pool: fig()}
		}
		res.Delta.CatastrophicBase, res.Delta.AidPaid = fig(), fig()
		if r.IntN(2) == 0 {
			res.Budget = &BudgetStatus{Used: fig()}
		}
		// Mostly small figures, so that both answers are seen often.
		if r.IntN(2) == 0 {
			acc, res.Delta = small(acc), small(res.Delta)
			res.Breakdown.Total = Money{1}
			res.Budget = nil
		}
		want := withinBounds(Input{Accumulators: acc}, res)
		if got := settledWithinBounds(&acc, &res, vt, pool); got != want {
			t.Fatalf("settledWithinBounds = %v, withinBounds = %v for accumulators %+v, delta %+v (visit %v, pool %q)", got, want, acc, res.Delta, vt, pool)
		}
		if want {
			trues++
		}
	}
	if trues < 10_000 {
		t.Fatalf("only %d of the cases were within bounds", trues)
	}
}

// small is a with every figure made 1 (maps copied).
func small(a Accumulators) Accumulators {
	out := a
	one := Money{1}
	if a.VisitTypes != nil {
		out.VisitTypes = map[VisitType]VisitAccumulator{}
		for k := range a.VisitTypes {
			out.VisitTypes[k] = VisitAccumulator{InScope: one, DeductiblePaid: one}
		}
	}
	if a.PoolUsed != nil {
		out.PoolUsed = map[string]Money{}
		for k := range a.PoolUsed {
			out.PoolUsed[k] = one
		}
	}
	out.CatastrophicBase, out.AidPaid = one, one
	return out
}
