package api

import (
	"github.com/shopspring/decimal"

	"github.com/medsettle/medsettle/engine"
)

// parser turns the strings of a request into engine values, recording a
// violation for every field it cannot read so that all of them are
// reported at once.
type parser struct {
	v engine.Violations
}

func (p *parser) money(field, s string) decimal.Decimal {
	d, err := engine.ParseMoney(s)
	if err != nil {
		p.v.Addf(field, "%v: money is a string with at most two decimals, like \"1234.50\"", err)
	}
	return d
}

// optMoney reads money that may be left empty (nil).
func (p *parser) optMoney(field, s string) *decimal.Decimal {
	if s == "" {
		return nil
	}
	d := p.money(field, s)
	return &d
}

// moneyOrZero reads money where empty means zero.
func (p *parser) moneyOrZero(field, s string) decimal.Decimal {
	if s == "" {
		return decimal.Zero
	}
	return p.money(field, s)
}

func (p *parser) ratio(field, s string) decimal.Decimal {
	d, err := engine.ParseRatio(s)
	if err != nil {
		p.v.Addf(field, "%v: a ratio is a decimal string in [0, 1] with at most four decimals, like \"0.87\"", err)
	}
	return d
}

// ratioOrZero reads a ratio where empty means zero.
func (p *parser) ratioOrZero(field, s string) decimal.Decimal {
	if s == "" {
		return decimal.Zero
	}
	return p.ratio(field, s)
}

// optRatio reads a ratio that may be left empty (nil).
func (p *parser) optRatio(field, s string) *decimal.Decimal {
	if s == "" {
		return nil
	}
	d := p.ratio(field, s)
	return &d
}

// positive reads a decimal > 0 with at most places decimals.
func (p *parser) positive(field, s string, places int) decimal.Decimal {
	d, err := engine.ParseDecimal(s, places)
	switch {
	case err != nil:
		p.v.Addf(field, "%v", err)
	case !d.IsPositive():
		p.v.Addf(field, "must be greater than 0, got %s", s)
	}
	return d
}

// price reads a unit price or price cap: ≥ 0, at most four decimals.
func (p *parser) price(field, s string) (decimal.Decimal, bool) {
	d, err := engine.ParseDecimal(s, engine.MaxPricePlaces)
	if err != nil {
		p.v.Addf(field, "%v", err)
		return d, false
	}
	if d.IsNegative() {
		p.v.Addf(field, "must not be negative, got %s", s)
		return d, false
	}
	return d, true
}

func (p *parser) date(field, s string) engine.Date {
	if s == "" {
		p.v.Addf(field, "is required (YYYY-MM-DD)")
		return engine.Date{}
	}
	d, err := engine.ParseDate(s)
	if err != nil {
		p.v.Addf(field, "%v", err)
	}
	return d
}

// enum checks that an enum value is one the API defines.
func (p *parser) enum(field string, value int32, names map[int32]string) {
	if _, ok := names[value]; !ok {
		p.v.Addf(field, "%d is not a known value", value)
	}
}
