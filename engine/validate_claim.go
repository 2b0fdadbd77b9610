package engine

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckID records a violation when an identifier is empty, not UTF-8,
// longer than MaxIDLen characters or carries a control character.
func CheckID(v *Violations, field, s string) { CheckIDAt(v, Path(field), s) }

// CheckIDAt is CheckID for a field named by a FieldPath, whose text is
// built only when there is a violation to record.
func CheckIDAt(v *Violations, p FieldPath, s string) {
	if s == "" {
		v.AddAtf(p, "is required")
		return
	}
	if asciiClean(s, MaxIDLen, true) {
		return
	}
	checkChars(v, p, s, MaxIDLen, unicode.IsControl)
}

// CheckText records a violation when a free text is not UTF-8, longer
// than max characters or carries a NUL (which no store can keep).
func CheckText(v *Violations, field, s string, max int) { CheckTextAt(v, Path(field), s, max) }

// CheckTextAt is CheckText for a field named by a FieldPath.
func CheckTextAt(v *Violations, p FieldPath, s string, max int) {
	if asciiClean(s, max, false) {
		return
	}
	checkChars(v, p, s, max, isNUL)
}

// asciiClean reports, in one pass, that s is ASCII of at most max
// characters with no NUL (no control character at all when controls):
// then checkChars has nothing to say. Other strings take its full checks.
func asciiClean(s string, max int, controls bool) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x7f || c == 0 || (controls && c < 0x20) {
			return false
		}
	}
	return true
}

func isNUL(r rune) bool { return r == 0 }

// checkChars records the first problem of s: not UTF-8, more than max
// characters (counted as runes, so 64 Chinese characters fit an id of 64),
// or a character bad reports.
func checkChars(v *Violations, p FieldPath, s string, max int, bad func(rune) bool) {
	switch {
	case len(s) > max*utf8.UTFMax: // longer than any max-character string
		v.AddAtf(p, "is %d bytes long; at most %d characters are allowed", len(s), max)
	case !utf8.ValidString(s):
		v.AddAtf(p, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		v.AddAtf(p, "is %d characters long; at most %d are allowed", utf8.RuneCountInString(s), max)
	default:
		if i := strings.IndexFunc(s, bad); i >= 0 {
			r, _ := utf8.DecodeRuneInString(s[i:])
			v.AddAtf(p, "contains the control character %U at byte %d", r, i)
		}
	}
}

// CheckQuantityAt records a violation unless 0 < quantity ≤ 1,000,000; the
// field's path text is built only when there is a violation.
func CheckQuantityAt(v *Violations, p FieldPath, q Quantity) {
	if !q.IsPositive() {
		v.AddAtf(p, "must be greater than 0, got %s", q)
	} else if q.GreaterThan(maxQuantity) {
		v.AddAtf(p, "must be at most %s, got %s", maxQuantity, q)
	}
}

// CheckUnitPriceAt records a violation unless 0 ≤ price ≤ MaxMoney.
func CheckUnitPriceAt(v *Violations, path FieldPath, p Price) {
	if p.IsNegative() {
		v.AddAtf(path, "must not be negative, got %s", p)
	} else if p.Scaled() > maxPriceScaled {
		v.AddAtf(path, "must be at most %s, got %s", MaxMoney, p)
	}
}

// CheckItemNumbersAt checks the arithmetic of one parsed line item at path
// item (e.g. IndexPath("items", i, "")): quantity > 0, unit_price ≥ 0,
// amount = round(quantity × unit_price). The paths of its fields are built
// only for a violation.
func CheckItemNumbersAt(v *Violations, item FieldPath, it LineItem) {
	CheckQuantityAt(v, item.With("quantity"), it.Quantity)
	CheckUnitPriceAt(v, item.With("unit_price"), it.UnitPrice)
	amount := item.With("amount")
	if it.Amount.IsNegative() {
		v.AddAtf(amount, "must not be negative, got %s", FormatMoney(it.Amount))
		return
	}
	if it.Amount.Fen() > maxMoneyFen {
		v.AddAtf(amount, "is %s; a line's amount may be at most %s yuan", FormatMoney(it.Amount), MaxMoney)
		return
	}
	want, ok := it.UnitPrice.MulQuantity(it.Quantity)
	if !ok {
		v.AddAtf(amount, "is %s but round(quantity %s × unit_price %s) is above %s yuan",
			FormatMoney(it.Amount), it.Quantity, it.UnitPrice, MaxMoney)
		return
	}
	if !want.Equal(it.Amount) {
		v.AddAtf(amount, "is %s but round(quantity %s × unit_price %s) is %s",
			FormatMoney(it.Amount), it.Quantity, it.UnitPrice, FormatMoney(want))
	}
}

// ValidateClaim checks everything about a claim that does not depend on a
// policy. Returns a *ValidationError listing every problem.
func ValidateClaim(c Claim) error {
	var v Violations
	CheckID(&v, "request_id", c.RequestID)
	CheckID(&v, "institution_id", c.InstitutionID)
	CheckID(&v, "person_id", c.PersonID)
	if c.VisitType < VisitInpatient || c.VisitType > VisitOutpatient {
		v.Addf("visit_type", "must be VISIT_TYPE_INPATIENT, VISIT_TYPE_CHRONIC_OUTPATIENT or VISIT_TYPE_OUTPATIENT")
	}
	if c.SettleDate.IsZero() {
		v.Addf("settle_date", "is required (YYYY-MM-DD)")
	}
	if c.CrossRegion < CrossRegionUnspecified || c.CrossRegion > CrossRegionUnregistered {
		v.Addf("cross_region", "is not a known cross-region state")
	}
	if c.DRGCode != "" {
		CheckText(&v, "drg_code", c.DRGCode, MaxIDLen)
	}
	switch {
	case len(c.Items) == 0:
		v.Addf("items", "a claim needs at least one line item")
	case len(c.Items) > MaxItems:
		v.Addf("items", "has %d line items; at most %d are allowed", len(c.Items), MaxItems)
	default:
		var total Money
		overflow := false
		for i, it := range c.Items {
			CheckIDAt(&v, IndexPath("items", i, "code"), it.Code)
			CheckTextAt(&v, IndexPath("items", i, "name"), it.Name, MaxNameLen)
			CheckItemNumbersAt(&v, IndexPath("items", i, ""), it)
			if t, ok := total.AddChecked(it.Amount); ok {
				total = t
			} else {
				overflow = true
			}
		}
		if overflow || total.Fen() > maxTotalFen {
			v.Addf("items", "the line amounts add up to %s; a claim's total may be at most %s yuan",
				FormatMoney(total), MaxTotal)
		}
	}
	return v.Err()
}

// maxTotalFen is MaxTotal in fen.
const maxTotalFen = maxMoneyFen

// CheckBounds refuses a settlement that would carry a figure above
// MaxTotal: its breakdown and detail lines (each at most the claim's
// total, which ValidateClaim bounds), the institution's budget usage with
// it, and the person's running totals for the year after it. Returns a
// *ValidationError naming "items" (the bill that would carry the figure
// over) and the figure, or nil.
func CheckBounds(in Input, res Result) error {
	if withinBounds(in, res) {
		return nil
	}
	var v Violations
	over := func(what string, d Money) {
		if d.Fen() > maxTotalFen {
			v.Addf("items", "settling this claim would bring %s to %s; every figure is kept at most %s yuan",
				what, FormatMoney(d), MaxTotal)
		}
	}
	b := res.Breakdown
	for _, f := range []struct {
		name string
		v    Money
	}{
		{"total", b.Total}, {"in_scope", b.InScope}, {"basic_fund", b.BasicFund}, {"over_cap", b.OverCap},
		{"fund_total", b.FundTotal}, {"personal_total", b.PersonalTotal},
	} {
		over("the settlement's "+f.name, f.v)
	}
	if res.Budget != nil {
		over(fmt.Sprintf("institution %q's budget usage of %d", in.Institution.ID, res.Budget.Year), res.Budget.Used)
	}
	after := in.Accumulators.Apply(res.Delta, +1)
	who := fmt.Sprintf("person %q's %d", in.Claim.PersonID, in.Claim.Year())
	for _, vt := range VisitTypes {
		va := after.Visit(vt)
		over(fmt.Sprintf("%s in-scope cost of %s", who, vt), va.InScope)
		over(fmt.Sprintf("%s deductible paid of %s", who, vt), va.DeductiblePaid)
	}
	for _, name := range after.PoolNames() {
		over(fmt.Sprintf("%s use of cap pool %q", who, name), after.PoolUsed[name])
	}
	over(who+" catastrophic base", after.CatastrophicBase)
	over(who+" catastrophic insurance paid", after.CatastrophicPaid)
	over(who+" medical aid base", after.AidBase)
	over(who+" medical aid paid", after.AidPaid)
	over(who+" out-of-pocket cost under medical aid", after.AidOutOfPocket)
	return v.Err()
}

// withinBounds reports, without allocating, that every figure CheckBounds
// checks is at most MaxTotal; when it is false, CheckBounds looks again
// and names the figures.
func withinBounds(in Input, res Result) bool {
	if !figuresWithin(&res) {
		return false
	}
	acc, d := &in.Accumulators, &res.Delta
	for _, vt := range VisitTypes {
		x, y := acc.Visit(vt), d.Visit(vt)
		if !within(x.InScope, y.InScope) || !within(x.DeductiblePaid, y.DeductiblePaid) {
			return false
		}
	}
	for name, used := range acc.PoolUsed {
		if !within(used, d.PoolUsed[name]) {
			return false
		}
	}
	for name, used := range d.PoolUsed {
		if !within(acc.PoolUsed[name], used) {
			return false
		}
	}
	return totalsWithin(acc, d)
}

// figuresWithin reports that the result's own figures CheckBounds checks
// (its breakdown's and the budget usage) are at most MaxTotal.
func figuresWithin(res *Result) bool {
	b := &res.Breakdown
	for _, m := range [...]Money{b.Total, b.InScope, b.BasicFund, b.OverCap, b.FundTotal, b.PersonalTotal} {
		if m.fen > maxTotalFen {
			return false
		}
	}
	return res.Budget == nil || res.Budget.Used.fen <= maxTotalFen
}

// totalsWithin reports that the person's yearly totals outside the maps
// stay at most MaxTotal with the delta d added.
func totalsWithin(acc, d *Accumulators) bool {
	return within(acc.CatastrophicBase, d.CatastrophicBase) && within(acc.CatastrophicPaid, d.CatastrophicPaid) &&
		within(acc.AidBase, d.AidBase) && within(acc.AidPaid, d.AidPaid) && within(acc.AidOutOfPocket, d.AidOutOfPocket)
}

// within reports that a + b is in the int64 range and at most MaxTotal.
func within(a, b Money) bool {
	s, ok := a.AddChecked(b)
	return ok && s.fen <= maxTotalFen
}
