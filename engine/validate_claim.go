package engine

import (
	"fmt"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

var maxQuantity = decimal.NewFromInt(1_000_000)

// CheckID records a violation when an identifier is empty or too long.
func CheckID(v *Violations, field, s string) {
	switch {
	case s == "":
		v.Addf(field, "is required")
	case len(s) > MaxIDLen:
		v.Addf(field, "is %d bytes long; at most %d are allowed", len(s), MaxIDLen)
	case !utf8.ValidString(s):
		v.Addf(field, "is not valid UTF-8")
	}
}

// CheckText records a violation when a free text is longer than max bytes
// or not UTF-8.
func CheckText(v *Violations, field, s string, max int) {
	switch {
	case len(s) > max:
		v.Addf(field, "is %d bytes long; at most %d are allowed", len(s), max)
	case !utf8.ValidString(s):
		v.Addf(field, "is not valid UTF-8")
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
		for i, it := range c.Items {
			path := fmt.Sprintf("items[%d]", i)
			CheckID(&v, path+".code", it.Code)
			CheckText(&v, path+".name", it.Name, MaxNameLen)
			CheckItemNumbers(&v, path, it)
		}
	}
	return v.Err()
}
