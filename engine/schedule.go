package engine

// span applies the schedule primitive of SETTLEMENT.md: what a running
// amount moving from c0 to c1 is paid, band by band. Every band is clipped
// below at floor (a deductible carved off the bottom) and its ratio is
// lowered by cut (floor 0). It appends one line per band to lines, zero
// lines included, and returns them and their sum. Rounding is per band:
// amount_b = round(r_b × len_b(c1)) − round(r_b × len_b(c0)).
func span(lines []Detail, bands []Band, cut Ratio, floor, c0, c1 Money, fund Fund) ([]Detail, Money) {
	var total, lower Money
	for i, b := range bands {
		lo := lower.Max(floor)
		l0, l1 := bandLength(b, lo, c0), bandLength(b, lo, c1)
		ratio := b.Ratio.Sub(cut).Max(Ratio{})
		amount := l1.MulRatio(ratio).Sub(l0.MulRatio(ratio))
		lines = append(lines, Detail{Fund: fund, Band: i, Ratio: ratio, Base: l1.Sub(l0), Amount: amount})
		total = total.Add(amount)
		if b.UpTo != nil {
			lower = *b.UpTo
		}
	}
	return lines, total
}

// bandLength is how much of the running amount x lies in band b, whose
// lower bound is lo: min(up_to, x) − lo, at least 0.
func bandLength(b Band, lo, x Money) Money {
	hi := x
	if b.UpTo != nil {
		hi = b.UpTo.Min(x)
	}
	return hi.Sub(lo).Max(Money{})
}

// capLines limits what lines pay to at most limit, cutting from the highest
// band first so that the lines still add up to what is paid. It returns the
// amount paid.
func capLines(lines []Detail, raw, limit Money) Money {
	limit = limit.Max(Money{})
	if raw.LessThanOrEqual(limit) {
		return raw
	}
	excess := raw.Sub(limit)
	for i := len(lines) - 1; i >= 0 && excess.IsPositive(); i-- {
		c := lines[i].Amount.Min(excess)
		lines[i].Amount = lines[i].Amount.Sub(c)
		excess = excess.Sub(c)
	}
	return limit
}

// dropZero keeps, of the lines from start on, those that pay something,
// in order.
func dropZero(lines []Detail, start int) []Detail {
	out := lines[:start]
	for _, l := range lines[start:] {
		if !l.Amount.IsZero() {
			out = append(out, l)
		}
	}
	return out
}
