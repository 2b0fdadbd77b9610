package engine

import (
	"fmt"
	"math/big"
)

// pointsUnit is the number of points units in one point.
const pointsUnit = 10_000

// Points is an exact number of DRG points with four decimals (CLEARING.md:
// points are rounded to 4 decimals), kept as ten-thousandths of a point in
// an int64: a group's base points, a high-cost threshold row's
// up_to_points, a case's, an institution's and a run's points. The zero
// value is 0.
type Points struct{ v int64 }

// PointsFromScaled is n ten-thousandths of a point.
func PointsFromScaled(n int64) Points { return Points{n} }

// Scaled is the points as a whole number of ten-thousandths.
func (p Points) Scaled() int64 { return p.v }

// ParsePoints parses a non-negative number of points with at most four
// decimals ("100", "0.5"), as the API takes base_points and up_to_points.
func ParsePoints(s string) (Points, error) {
	v, err := parseScaled(s, 4, 4, MaxDecimalLen, false, true)
	if err != nil {
		return Points{}, err
	}
	return Points{v}, nil
}

// MustPoints parses a literal number of points and panics if it is not
// one: for constants and tests.
func MustPoints(s string) Points {
	v, err := parseScaled(s, 4, 4, maxStoredLen, true, true)
	if err != nil {
		panic(err)
	}
	return Points{v}
}

// String renders the points in their shortest exact form ("110", "0.5").
func (p Points) String() string { return formatScaled(p.v, 4, 0) }

// StringFixed renders the points with exactly four decimals ("110.0000"),
// as the API reports them.
func (p Points) StringFixed() string { return formatScaled(p.v, 4, 4) }

// MarshalText writes the points as String does.
func (p Points) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads stored points.
func (p *Points) UnmarshalText(text []byte) error {
	v, err := unmarshalScaled(text, 4, "points")
	if err != nil {
		return err
	}
	p.v = v
	return nil
}

// Add is p + o.
func (p Points) Add(o Points) Points { return Points{mustAdd(p.v, o.v)} }

// AddChecked is p + o, and false when the sum leaves the int64 range.
func (p Points) AddChecked(o Points) (Points, bool) {
	s, ok := addChecked(p.v, o.v)
	return Points{s}, ok
}

// Cmp compares: −1 if p < o, 0 if equal, +1 if p > o.
func (p Points) Cmp(o Points) int { return cmp64(p.v, o.v) }

// Equal reports p = o.
func (p Points) Equal(o Points) bool { return p.v == o.v }

// GreaterThan reports p > o.
func (p Points) GreaterThan(o Points) bool { return p.v > o.v }

// GreaterThanOrEqual reports p ≥ o.
func (p Points) GreaterThanOrEqual(o Points) bool { return p.v >= o.v }

// IsZero reports p = 0.
func (p Points) IsZero() bool { return p.v == 0 }

// IsPositive reports p > 0.
func (p Points) IsPositive() bool { return p.v > 0 }

// Sign is −1, 0 or +1.
func (p Points) Sign() int { return cmp64(p.v, 0) }

// Rat is the points as an exact rational.
func (p Points) Rat() *big.Rat { return ratScaled(p.v, 4) }

// pointValueUnit is the number of point value units in one yuan.
const pointValueUnit = 1_000_000

// PointValue is a DRG point value (点值) in yuan per point with six
// decimals, kept as millionths in an int64: the figure a run reports,
// rounded half away from zero (CLEARING.md). Payments are computed from
// the exact value, never from this one. The zero value is 0.
type PointValue struct{ v int64 }

// PointValueFromScaled is n millionths of a yuan per point.
func PointValueFromScaled(n int64) PointValue { return PointValue{n} }

// Scaled is the point value as a whole number of millionths.
func (p PointValue) Scaled() int64 { return p.v }

// MustPointValue parses a literal point value and panics if it is not
// one: for constants and tests.
func MustPointValue(s string) PointValue {
	v, err := parseScaled(s, 6, 6, maxStoredLen, true, true)
	if err != nil {
		panic(err)
	}
	return PointValue{v}
}

// String renders the point value in its shortest exact form ("0.5").
func (p PointValue) String() string { return formatScaled(p.v, 6, 0) }

// StringFixed renders the point value with exactly six decimals
// ("0.500000"), as the API reports it.
func (p PointValue) StringFixed() string { return formatScaled(p.v, 6, 6) }

// MarshalText writes the point value as String does.
func (p PointValue) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a stored point value.
func (p *PointValue) UnmarshalText(text []byte) error {
	v, err := unmarshalScaled(text, 6, "point value")
	if err != nil {
		return err
	}
	p.v = v
	return nil
}

// Equal reports p = o.
func (p PointValue) Equal(o PointValue) bool { return p.v == o.v }

// Cmp compares: −1 if p < o, 0 if equal, +1 if p > o.
func (p PointValue) Cmp(o PointValue) int { return cmp64(p.v, o.v) }

// IsZero reports p = 0.
func (p PointValue) IsZero() bool { return p.v == 0 }

// Rat is the point value as an exact rational.
func (p PointValue) Rat() *big.Rat { return ratScaled(p.v, 6) }

// ParseFactor parses a non-negative ratio with at most four decimals and
// no upper bound other than MaxMoney: a DRG difference coefficient ("1.2")
// or a high-cost threshold ratio ("3"), which ParseRatio's [0, 1] would
// refuse.
func ParseFactor(s string) (Ratio, error) {
	v, err := parseScaled(s, 4, 4, MaxDecimalLen, false, true)
	if err != nil {
		return Ratio{}, err
	}
	if v > maxMoneyFen*100 {
		return Ratio{}, fmt.Errorf("%q is above the limit of %s", s, MaxMoney)
	}
	return Ratio{v}, nil
}
