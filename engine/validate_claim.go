package engine

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

var maxQuantity = decimal.NewFromInt(1_000_000)

// CheckID records a violation when an identifier is empty, not UTF-8,
// longer than MaxIDLen characters or carries a control character.
func CheckID(v *Violations, field, s string) {
	if s == "" {
		v.Addf(field, "is required")
		return
	}
	checkChars(v, field, s, MaxIDLen, func(r rune) bool { return unicode.IsControl(r) })
}

// CheckText records a violation when a free text is not UTF-8, longer
// than max characters or carries a NUL (which no store can keep).
func CheckText(v *Violations, field, s string, max int) {
	checkChars(v, field, s, max, func(r rune) bool { return r == 0 })
}

// checkChars records the first problem of s: not UTF-8, more than max
// characters (counted as runes, so 64 Chinese characters fit an id of 64),
// or a character bad reports.
func checkChars(v *Violations, field, s string, max int, bad func(rune) bool) {
	switch {
	case len(s) > max*utf8.UTFMax: // longer than any max-character string
		v.Addf(field, "is %d bytes long; at most %d characters are allowed", len(s), max)
	case !utf8.ValidString(s):
		v.Addf(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		v.Addf(field, "is %d characters long; at most %d are allowed", utf8.RuneCountInString(s), max)
	default:
		if i := strings.IndexFunc(s, bad); i >= 0 {
			r, _ := utf8.DecodeRuneInString(s[i:])
			v.Addf(field, "contains the control character %U at byte %d", r, i)
		}
	}
}

// CheckQuantity records a violation unless 0 < quantity ≤ 1,000,000.
func CheckQuantity(v *Violations, field string, q decimal.Decimal) {
	if !q.IsPositive() {
		v.Addf(field, "must be greater than 0, got %s", q)
	} else if q.GreaterThan(maxQuantity) {
		v.Addf(field, "must be at most %s, got %s", maxQuantity, q)
	}
}

// CheckUnitPrice records a violation unless 0 ≤ price ≤ MaxMoney.
func CheckUnitPrice(v *Violations, field string, p decimal.Decimal) {
	if p.IsNegative() {
		v.Addf(field, "must not be negative, got %s", p)
	} else if p.GreaterThan(maxMoney) {
		v.Addf(field, "must be at most %s, got %s", MaxMoney, p)
	}
}

// CheckItemNumbers checks the arithmetic of one parsed line item: quantity
// > 0, unit_price ≥ 0, amount = round(quantity × unit_price).
func CheckItemNumbers(v *Violations, path string, it LineItem) {
	CheckQuantity(v, path+".quantity", it.Quantity)
	CheckUnitPrice(v, path+".unit_price", it.UnitPrice)
	if it.Amount.IsNegative() {
		v.Addf(path+".amount", "must not be negative, got %s", FormatMoney(it.Amount))
		return
	}
	if it.Amount.GreaterThan(maxMoney) {
		v.Addf(path+".amount", "is %s; a line's amount may be at most %s yuan", FormatMoney(it.Amount), MaxMoney)
		return
	}
	if want := Round2(it.Quantity.Mul(it.UnitPrice)); !want.Equal(it.Amount) {
		v.Addf(path+".amount", "is %s but round(quantity %s × unit_price %s) is %s",
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
		total := zero
		for i, it := range c.Items {
			path := fmt.Sprintf("items[%d]", i)
			CheckID(&v, path+".code", it.Code)
			CheckText(&v, path+".name", it.Name, MaxNameLen)
			CheckItemNumbers(&v, path, it)
			total = total.Add(it.Amount)
		}
		if total.GreaterThan(maxTotal) {
			v.Addf("items", "the line amounts add up to %s; a claim's total may be at most %s yuan",
				FormatMoney(total), MaxTotal)
		}
	}
	return v.Err()
}

var maxTotal = decimal.RequireFromString(MaxTotal)

// CheckBounds refuses a settlement that would carry a figure above
// MaxTotal: its breakdown and detail lines (each at most the claim's
// total, which ValidateClaim bounds), the institution's budget usage with
// it, and the person's running totals for the year after it. Returns a
// *ValidationError naming "items" (the bill that would carry the figure
// over) and the figure, or nil.
func CheckBounds(in Input, res Result) error {
	var v Violations
	over := func(what string, d decimal.Decimal) {
		if d.GreaterThan(maxTotal) {
			v.Addf("items", "settling this claim would bring %s to %s; every figure is kept at most %s yuan",
				what, FormatMoney(d), MaxTotal)
		}
	}
	b := res.Breakdown
	for _, f := range []struct {
		name string
		v    decimal.Decimal
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
