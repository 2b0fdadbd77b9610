package api

import (
	"github.com/medsettle/medsettle/engine"
)

// parser turns the strings of a request into engine values, recording a
// violation for every field it cannot read so that all of them are
// reported at once. Its ...At methods name the field by an
// engine.FieldPath, whose text is built only when a violation is
// recorded: reading a valid claim builds no field names.
type parser struct {
	v engine.Violations
}

func (p *parser) money(field, s string) engine.Money { return p.moneyAt(engine.Path(field), s) }

// moneyAt reads money (≥ 0, at most two decimals, at most MaxMoney).
func (p *parser) moneyAt(f engine.FieldPath, s string) engine.Money {
	m, err := engine.ParseMoney(s)
	if err != nil {
		p.v.AddAtf(f, "%v: money is a string with at most two decimals, like \"1234.50\"", err)
	}
	return m
}

// optMoney reads money that may be left empty (nil).
func (p *parser) optMoney(field, s string) *engine.Money {
	if s == "" {
		return nil
	}
	m := p.money(field, s)
	return &m
}

// moneyOrZero reads money where empty means zero.
func (p *parser) moneyOrZero(field, s string) engine.Money {
	if s == "" {
		return engine.Money{}
	}
	return p.money(field, s)
}

func (p *parser) ratio(field, s string) engine.Ratio { return p.ratioAt(engine.Path(field), s) }

// ratioAt reads a ratio in [0, 1] with at most four decimals.
func (p *parser) ratioAt(f engine.FieldPath, s string) engine.Ratio {
	r, err := engine.ParseRatio(s)
	if err != nil {
		p.v.AddAtf(f, "%v: a ratio is a decimal string in [0, 1] with at most four decimals, like \"0.87\"", err)
	}
	return r
}

// ratioOrZero reads a ratio where empty means zero.
func (p *parser) ratioOrZero(field, s string) engine.Ratio {
	if s == "" {
		return engine.Ratio{}
	}
	return p.ratio(field, s)
}

// optRatio reads a ratio that may be left empty (nil).
func (p *parser) optRatio(field, s string) *engine.Ratio {
	if s == "" {
		return nil
	}
	r := p.ratio(field, s)
	return &r
}

// positivePointsAt reads a number of DRG points > 0 with at most four
// decimals (base_points, up_to_points).
func (p *parser) positivePointsAt(f engine.FieldPath, s string) engine.Points {
	v, err := engine.ParsePoints(s)
	switch {
	case err != nil:
		p.v.AddAtf(f, "%v", err)
	case !v.IsPositive():
		p.v.AddAtf(f, "must be greater than 0, got %s", s)
	}
	return v
}

// positiveFactor reads a factor > 0 with at most four decimals and no
// upper bound below MaxMoney: a DRG difference coefficient or a
// high-cost threshold ratio.
func (p *parser) positiveFactor(field, s string) engine.Ratio {
	v, err := engine.ParseFactor(s)
	switch {
	case err != nil:
		p.v.Addf(field, "%v", err)
	case !v.IsPositive():
		p.v.Addf(field, "must be greater than 0, got %s", s)
	}
	return v
}

// quantityAt reads a line item's quantity: > 0, at most
// engine.MaxQuantityPlaces decimals, within engine.CheckQuantity's range.
// ok is false when a violation was recorded.
func (p *parser) quantityAt(f engine.FieldPath, s string) (q engine.Quantity, ok bool) {
	before := p.v.Len()
	q, err := engine.ParseQuantity(s)
	if err != nil {
		p.v.AddAtf(f, "%v", err)
	} else {
		engine.CheckQuantityAt(&p.v, f, q)
	}
	return q, p.v.Len() == before
}

// priceAt reads a unit price or price cap: ≥ 0, at most
// engine.MaxPricePlaces decimals, at most MaxMoney. ok is false when a
// violation was recorded.
func (p *parser) priceAt(f engine.FieldPath, s string) (price engine.Price, ok bool) {
	before := p.v.Len()
	price, err := engine.ParsePrice(s)
	if err != nil {
		p.v.AddAtf(f, "%v", err)
	} else {
		engine.CheckUnitPriceAt(&p.v, f, price)
	}
	return price, p.v.Len() == before
}

func (p *parser) date(field, s string) engine.Date { return p.dateAt(engine.Path(field), s) }

// dateAt reads a required date (YYYY-MM-DD).
func (p *parser) dateAt(f engine.FieldPath, s string) engine.Date {
	if s == "" {
		p.v.AddAtf(f, "is required (YYYY-MM-DD)")
		return engine.Date{}
	}
	d, err := engine.ParseDate(s)
	if err != nil {
		p.v.AddAtf(f, "%v", err)
	}
	return d
}

// enum checks that an enum value is one the API defines.
func (p *parser) enum(field string, value int32, names map[int32]string) {
	p.enumAt(engine.Path(field), value, names)
}

// enumAt is enum for a field named by a FieldPath.
func (p *parser) enumAt(f engine.FieldPath, value int32, names map[int32]string) {
	if _, ok := names[value]; !ok {
		p.v.AddAtf(f, "%d is not a known value", value)
	}
}
