package engine

import (
	"math/big"

	"github.com/shopspring/decimal"
)

// DRGRatio is r = round(c / a, 4) as a DRG clearer computes it for a case
// of cost c in a group of average cost a, and whether the integer fast
// path computed it (else the big.Rat fallback did).
func DRGRatio(c, a decimal.Decimal) (decimal.Decimal, bool) {
	g := newDRGGroupCalc(&DRG{}, DRGGroup{Code: "X", BasePoints: one, AverageCost: a})
	if fen, ok := scaledInt(c, 2); ok && fen >= 0 && g.fast {
		if r4, ok := mulDivRound(uint64(fen), g.rMul, g.rDiv); ok {
			return decimal.New(int64(r4), -4), true
		}
	}
	return roundRat(new(big.Rat).Quo(c.Rat(), a.Rat()), 4), false
}

// SlowCases is how many cases a DRG Clearer scored on its decimal and
// big.Rat fallback rather than in integers.
func SlowCases(c Clearer) int64 { return c.(*drgClearer).slow }
