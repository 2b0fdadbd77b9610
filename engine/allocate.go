package engine

import (
	"fmt"
	"math/big"
	"sort"
)

// Share is one party's exact (rational) part of an amount to allocate.
type Share struct {
	// Key identifies the party; ties between equal remainders go to the
	// smaller key.
	Key   string
	Exact *big.Rat
}

// AllocateFen rounds exact shares to the fen by the largest-remainder
// method, so that the rounded amounts add up to total exactly: every
// share is first rounded down to the fen, and the fen left over go one
// each to the shares with the largest remainders (ties by key). total
// must equal the sum of the shares; the result is in the order of
// shares. Returns ErrInvariant otherwise.
func AllocateFen(total Money, shares []Share) ([]Money, error) {
	sum := new(big.Rat)
	for _, s := range shares {
		sum.Add(sum, s.Exact)
	}
	if sum.Cmp(total.Rat()) != 0 {
		return nil, fmt.Errorf("%w: shares add up to %s, not %s", ErrInvariant, sum.FloatString(6), total)
	}
	hundred := big.NewInt(100)
	fen := make([]*big.Int, len(shares))
	rem := make([]*big.Rat, len(shares))
	given := new(big.Int)
	for i, s := range shares {
		scaled := new(big.Rat).Mul(s.Exact, new(big.Rat).SetInt(hundred))
		fen[i] = floorRat(scaled)
		rem[i] = scaled.Sub(scaled, new(big.Rat).SetInt(fen[i]))
		given.Add(given, fen[i])
	}
	left := new(big.Int).Sub(big.NewInt(total.Fen()), given)
	order := make([]int, len(shares))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		if c := rem[order[a]].Cmp(rem[order[b]]); c != 0 {
			return c > 0
		}
		return shares[order[a]].Key < shares[order[b]].Key
	})
	// 0 ≤ left < len(shares): each remainder is in [0, 1).
	for k := int64(0); k < left.Int64(); k++ {
		fen[order[k]].Add(fen[order[k]], big.NewInt(1))
	}
	out := make([]Money, len(shares))
	for i := range shares {
		if !fen[i].IsInt64() {
			return nil, fmt.Errorf("%w: share %q of %s is out of range", ErrInvariant, shares[i].Key, total)
		}
		out[i] = MoneyFromFen(fen[i].Int64())
	}
	return out, nil
}

// floorRat is the largest integer ≤ r.
func floorRat(r *big.Rat) *big.Int {
	// big.Int.Div is Euclidean division, and a Rat's denominator is
	// positive: the quotient is the floor.
	return new(big.Int).Div(r.Num(), r.Denom())
}

// roundRatScaled rounds r half away from zero to places decimals, the one
// rounding rule of SETTLEMENT.md, without passing through a finite
// precision first: the result counts 10^-places units, and ok is false
// when it does not fit an int64.
func roundRatScaled(r *big.Rat, places int) (int64, bool) {
	scaled := new(big.Rat).Mul(new(big.Rat).Abs(r), new(big.Rat).SetInt64(pow10[places]))
	// |r| × 10^places + 1/2, rounded down.
	scaled.Add(scaled, big.NewRat(1, 2))
	n := floorRat(scaled)
	if r.Sign() < 0 {
		n.Neg(n)
	}
	if !n.IsInt64() {
		return 0, false
	}
	return n.Int64(), true
}
