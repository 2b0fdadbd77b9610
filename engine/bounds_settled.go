package engine

// settledWithinBounds is withinBounds for a result whose delta, as
// Settle's always does, holds the one visit type vt and at most the one
// cap pool named pool ("" for none). It reads the delta's entries by key
// and ranges over the person's pools only when a lookup cannot tell it
// has seen them all: ranging over a map cost more than the rest of
// Settle's bounds check. The answer is withinBounds' for such a delta
// (TestSettledWithinBounds); when it is false, Settle calls CheckBounds,
// which names the figures.
func settledWithinBounds(acc *Accumulators, res *Result, vt VisitType, pool string) bool {
	if !figuresWithin(res) {
		return false
	}
	d := &res.Delta
	dv := d.Visit(vt)
	for _, v := range VisitTypes {
		x := acc.Visit(v)
		var y VisitAccumulator
		if v == vt {
			y = dv
		}
		if !within(x.InScope, y.InScope) || !within(x.DeductiblePaid, y.DeductiblePaid) {
			return false
		}
	}
	var paid Money
	seen := 0 // how many of the person's pools were checked
	if pool != "" {
		paid = d.PoolUsed[pool]
		used, ok := acc.PoolUsed[pool]
		if !within(used, paid) {
			return false
		}
		if ok {
			seen = 1
		}
	}
	if len(acc.PoolUsed) > seen {
		for name, used := range acc.PoolUsed {
			var add Money // the delta's entry: paid for pool, none for the others
			if name == pool {
				add = paid
			}
			if !within(used, add) {
				return false
			}
		}
	}
	return totalsWithin(acc, d)
}
