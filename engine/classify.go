package engine

import "math"

// LineClass is how a policy classifies one line item: the catalog entry it
// falls under and the split of its amount into the four parts a
// settlement adds up over the claim's lines (Breakdown's OutOfScope,
// OverLimit, PreSelfPay and InScope). The parts add up to the line's
// amount.
type LineClass struct {
	// Known reports whether the policy's catalog lists the line's code.
	Known bool
	// Entry is the catalog entry (zero when the code is unknown).
	Entry CatalogEntry
	// OutOfScope is the whole amount of a C item or an unknown code
	// (fulamt_ownpay_amt).
	OutOfScope Money
	// OverLimit is what the line pays over the entry's price cap
	// (overlmt_amt): round((unit price − cap) × quantity), at most the
	// amount.
	OverLimit Money
	// PreSelfPay is a B item's self-pay part of the rest
	// (preselfpay_amt): round(rest × self-pay ratio).
	PreSelfPay Money
	// InScope is what is left (inscp_scp_amt).
	InScope Money
}

// ClassifyLine classifies one line item under policy p, exactly as Settle
// does for each line of a claim: an unknown code or a C item is out of
// scope; an A or B item first pays what its unit price exceeds the price
// cap, then a B item its self-pay ratio of the rest; the remainder is in
// scope. It is pure and does not check the code against
// UNKNOWN_ITEM_REJECT (CheckCodes does).
func ClassifyLine(p *Policy, it LineItem) LineClass {
	e := p.item(it.Code)
	if e == nil {
		return LineClass{OutOfScope: it.Amount}
	}
	lc := LineClass{Known: true, Entry: *e}
	lc.OutOfScope, lc.OverLimit, lc.PreSelfPay, lc.InScope = splitLine(e, &it)
	return lc
}

// splitLine is ClassifyLine's split of a catalogued line into out of
// scope, over limit, pre self-pay and in scope. Settle's classify uses it
// directly: it reads the entry in place rather than copying it into a
// LineClass for every line.
func splitLine(e *CatalogEntry, it *LineItem) (outOfScope, overLimitPart, preSelfPay, inScope Money) {
	if e.Category == ItemC {
		return it.Amount, Money{}, Money{}, Money{}
	}
	rest := it.Amount
	if e.PriceCap != nil && it.UnitPrice.GreaterThan(*e.PriceCap) {
		overLimitPart = rest.Min(overLimit(it.UnitPrice.Sub(*e.PriceCap), it.Quantity))
		rest = rest.Sub(overLimitPart)
	}
	if e.Category == ItemB {
		preSelfPay = rest.MulRatio(e.SelfPayRatio)
		rest = rest.Sub(preSelfPay)
	}
	return Money{}, overLimitPart, preSelfPay, rest
}

// classify splits the claim's items into out of scope, over limit, pre
// self-pay and in scope, line by line as ClassifyLine does. An unknown
// item is out of scope (CheckCodes has refused it first where the policy
// says so).
func classify(p *Policy, c *Claim, b *Breakdown) {
	for i := range c.Items {
		it := &c.Items[i]
		b.Total = b.Total.Add(it.Amount)
		e := p.item(it.Code)
		if e == nil {
			b.OutOfScope = b.OutOfScope.Add(it.Amount)
			continue
		}
		out, over, pre, in := splitLine(e, it)
		b.OutOfScope = b.OutOfScope.Add(out)
		b.OverLimit = b.OverLimit.Add(over)
		b.PreSelfPay = b.PreSelfPay.Add(pre)
		b.InScope = b.InScope.Add(in)
	}
}

// overLimit is what a line pays over its price cap: round(excess × quantity)
// to the fen. A product beyond the int64 range is far above any line's
// amount, which bounds what is charged over the limit: it saturates.
func overLimit(excess Price, q Quantity) Money {
	if m, ok := excess.MulQuantity(q); ok {
		return m
	}
	return MoneyFromFen(math.MaxInt64)
}
