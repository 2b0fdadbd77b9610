package engine

import "github.com/shopspring/decimal"

// span applies the schedule primitive of SETTLEMENT.md: what a running
// amount moving from c0 to c1 is paid, band by band. Every band is clipped
// below at floor (a deductible carved off the bottom) and its ratio is
// lowered by cut (floor 0). It returns one line per band, zero lines
// included, and their sum. Rounding is per band: amount_b =
// round(r_b × len_b(c1)) − round(r_b × len_b(c0)).
func span(bands []Band, cut, floor, c0, c1 decimal.Decimal, fund Fund) ([]Detail, decimal.Decimal) {
	lines := make([]Detail, 0, len(bands))
	total := zero
	lower := zero
	for i, b := range bands {
		lo := maxDec(lower, floor)
		length := func(x decimal.Decimal) decimal.Decimal {
			hi := x
			if b.UpTo != nil {
				hi = minDec(*b.UpTo, x)
			}
			return maxDec(zero, hi.Sub(lo))
		}
		l0, l1 := length(c0), length(c1)
		ratio := maxDec(zero, b.Ratio.Sub(cut))
		amount := Round2(ratio.Mul(l1)).Sub(Round2(ratio.Mul(l0)))
		lines = append(lines, Detail{Fund: fund, Band: i, Ratio: ratio, Base: l1.Sub(l0), Amount: amount})
		total = total.Add(amount)
		if b.UpTo != nil {
			lower = *b.UpTo
		}
	}
	return lines, total
}

// capLines limits what lines pay to at most limit, cutting from the highest
// band first so that the lines still add up to what is paid. It returns the
// amount paid.
func capLines(lines []Detail, raw, limit decimal.Decimal) decimal.Decimal {
	limit = maxDec(zero, limit)
	if raw.LessThanOrEqual(limit) {
		return raw
	}
	excess := raw.Sub(limit)
	for i := len(lines) - 1; i >= 0 && excess.IsPositive(); i-- {
		c := minDec(lines[i].Amount, excess)
		lines[i].Amount = lines[i].Amount.Sub(c)
		excess = excess.Sub(c)
	}
	return limit
}

// nonZero keeps the lines that pay something.
func nonZero(dst, lines []Detail) []Detail {
	for _, l := range lines {
		if !l.Amount.IsZero() {
			dst = append(dst, l)
		}
	}
	return dst
}
