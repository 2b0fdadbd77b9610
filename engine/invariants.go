package engine

import "fmt"

// CheckResult asserts the identities of SETTLEMENT.md on a result: no
// figure is negative (none can be finer than a fen: Money counts fen),
// the scope split adds up to the total, the funds add up to fund_total,
// the person's part to personal_total, and each fund's detail lines to
// what that fund paid.
// Returns an error wrapping ErrInvariant when one fails.
func CheckResult(r Result) error { return checkResult(&r) }

// checkResult is CheckResult of *r: Settle checks its result in place
// rather than copying it.
func checkResult(r *Result) error {
	if err := checkBreakdown(&r.Breakdown); err != nil {
		return err
	}
	b := &r.Breakdown
	var sums [FundAidCeiling + 1]Money
	for _, d := range r.Details {
		if d.Amount.IsNegative() || d.Base.IsNegative() || d.Amount.GreaterThan(d.Base) {
			return fmt.Errorf("%w: detail line %+v pays less than 0 or more than its base", ErrInvariant, d)
		}
		f := d.Fund
		if f == FundAidCeiling {
			f = FundMedicalAid
		}
		if f < 0 || int(f) >= len(sums) {
			return fmt.Errorf("%w: detail line %+v names no fund", ErrInvariant, d)
		}
		sums[f] = sums[f].Add(d.Amount)
	}
	if sums[FundBasic].Equal(b.BasicFund) && sums[FundCatastrophic].Equal(b.Catastrophic) && sums[FundMedicalAid].Equal(b.MedicalAid) {
		return nil // the usual answer, without building the list of identities
	}
	return checkIdentities(*b, []identity{
		{"basic detail lines add up to basic_fund", sums[FundBasic].Equal(b.BasicFund)},
		{"catastrophic detail lines add up to catastrophic", sums[FundCatastrophic].Equal(b.Catastrophic)},
		{"aid detail lines add up to medical_aid", sums[FundMedicalAid].Equal(b.MedicalAid)},
	})
}

// CheckBreakdown asserts the identities of SETTLEMENT.md on a breakdown
// alone (CheckResult without the detail lines): no figure is negative,
// the scope split adds up to the total, the funds to fund_total, the
// person's part to personal_total and cash to the personal part less the
// account. Returns an error wrapping ErrInvariant when one
// fails.
func CheckBreakdown(b Breakdown) error { return checkBreakdown(&b) }

// checkBreakdown is CheckBreakdown of *bp. A breakdown that holds, as
// every settlement's does, is told by breakdownHolds without building the
// named lists below, which cost more than the checks; those are built only
// to name what failed.
func checkBreakdown(bp *Breakdown) error {
	if breakdownHolds(bp) {
		return nil
	}
	b := *bp
	figures := [...]struct {
		name string
		v    Money
	}{
		{"total", b.Total}, {"out_of_scope", b.OutOfScope}, {"over_limit", b.OverLimit},
		{"pre_self_pay", b.PreSelfPay}, {"in_scope", b.InScope}, {"deductible", b.Deductible},
		{"basic_fund", b.BasicFund}, {"over_cap", b.OverCap}, {"catastrophic", b.Catastrophic},
		{"medical_aid", b.MedicalAid}, {"fund_total", b.FundTotal}, {"personal_total", b.PersonalTotal},
		{"account", b.Account}, {"cash", b.Cash},
	}
	for _, f := range figures {
		if f.v.IsNegative() {
			return fmt.Errorf("%w: %s is %s", ErrInvariant, f.name, f.v)
		}
	}
	return checkIdentities(b, []identity{
		{"total = out_of_scope + over_limit + pre_self_pay + in_scope",
			b.Total.Equal(b.OutOfScope.Add(b.OverLimit).Add(b.PreSelfPay).Add(b.InScope))},
		{"fund_total = basic_fund + catastrophic + medical_aid",
			b.FundTotal.Equal(b.BasicFund.Add(b.Catastrophic).Add(b.MedicalAid))},
		{"personal_total = total - fund_total", b.PersonalTotal.Equal(b.Total.Sub(b.FundTotal))},
		{"cash = personal_total - account", b.Cash.Equal(b.PersonalTotal.Sub(b.Account))},
	})
}

// breakdownHolds reports whether b passes every check of
// checkBreakdown: no figure negative, and the four identities. Its sums
// are those checkBreakdown computes, in the same order, so that a sum out
// of range panics as it would there.
func breakdownHolds(b *Breakdown) bool {
	if (b.Total.fen | b.OutOfScope.fen | b.OverLimit.fen | b.PreSelfPay.fen | b.InScope.fen | b.Deductible.fen |
		b.BasicFund.fen | b.OverCap.fen | b.Catastrophic.fen | b.MedicalAid.fen | b.FundTotal.fen |
		b.PersonalTotal.fen | b.Account.fen | b.Cash.fen) < 0 {
		return false // a figure is negative: its sign bit is set
	}
	total := b.Total.Equal(b.OutOfScope.Add(b.OverLimit).Add(b.PreSelfPay).Add(b.InScope))
	funds := b.FundTotal.Equal(b.BasicFund.Add(b.Catastrophic).Add(b.MedicalAid))
	personal := b.PersonalTotal.Equal(b.Total.Sub(b.FundTotal))
	cash := b.Cash.Equal(b.PersonalTotal.Sub(b.Account))
	return total && funds && personal && cash
}

// checkIdentities returns an error wrapping ErrInvariant naming the first
// identity that does not hold.
func checkIdentities(b Breakdown, identities []identity) error {
	for _, id := range identities {
		if !id.ok {
			return fmt.Errorf("%w: %s does not hold (breakdown %+v)", ErrInvariant, id.what, b)
		}
	}
	return nil
}

// identity is one equation CheckResult asserts.
type identity struct {
	what string
	ok   bool
}
