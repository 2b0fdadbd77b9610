package engine

import (
	"fmt"
	"math/big"
)

// ratioUnit is the number of ratio units in 1.
const ratioUnit = 10_000

// Ratio is an exact ratio with four decimals, kept as ten-thousandths in
// an int64: a reimbursement or self-pay ratio of a policy ("0.87"), a
// warning threshold, a DRG cost ratio. Ratios the API takes are in
// [0, 1]; a computed ratio (a cost ratio) may be larger. The zero value
// is 0.
type Ratio struct{ v int64 }

// RatioOne is 1.
var RatioOne = Ratio{ratioUnit}

// RatioFromScaled is n ten-thousandths.
func RatioFromScaled(n int64) Ratio { return Ratio{n} }

// Scaled is the ratio as a whole number of ten-thousandths.
func (r Ratio) Scaled() int64 { return r.v }

// ParseRatio parses a ratio in [0, 1] with at most four decimals.
func ParseRatio(s string) (Ratio, error) {
	v, err := parseScaled(s, 4, 4, MaxDecimalLen, false, true)
	if err != nil {
		return Ratio{}, err
	}
	if v > ratioUnit {
		return Ratio{}, fmt.Errorf("ratio %q is outside [0, 1]", s)
	}
	return Ratio{v}, nil
}

// MustRatio parses a literal ratio (at most four decimals, any size) and
// panics if it is not one: for constants and tests.
func MustRatio(s string) Ratio {
	v, err := parseScaled(s, 4, 4, maxStoredLen, true, true)
	if err != nil {
		panic(err)
	}
	return Ratio{v}
}

// String renders the ratio in its shortest exact form ("0.9", "1", "0").
func (r Ratio) String() string { return formatScaled(r.v, 4, 0) }

// AppendString appends r as String renders it (at most 25 bytes).
func (r Ratio) AppendString(b []byte) []byte { return appendScaled(b, r.v, 4, 0) }

// MarshalText writes the ratio as String does.
func (r Ratio) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a stored ratio.
func (r *Ratio) UnmarshalText(text []byte) error {
	v, err := unmarshalScaled(text, 4, "ratio")
	if err != nil {
		return err
	}
	r.v = v
	return nil
}

// Add is r + o.
func (r Ratio) Add(o Ratio) Ratio { return Ratio{mustAdd(r.v, o.v)} }

// Sub is r − o.
func (r Ratio) Sub(o Ratio) Ratio { return Ratio{mustSub(r.v, o.v)} }

// Cmp compares: −1 if r < o, 0 if equal, +1 if r > o.
func (r Ratio) Cmp(o Ratio) int { return cmp64(r.v, o.v) }

// Equal reports r = o.
func (r Ratio) Equal(o Ratio) bool { return r.v == o.v }

// GreaterThan reports r > o.
func (r Ratio) GreaterThan(o Ratio) bool { return r.v > o.v }

// LessThan reports r < o.
func (r Ratio) LessThan(o Ratio) bool { return r.v < o.v }

// IsZero reports r = 0.
func (r Ratio) IsZero() bool { return r.v == 0 }

// IsPositive reports r > 0.
func (r Ratio) IsPositive() bool { return r.v > 0 }

// IsNegative reports r < 0.
func (r Ratio) IsNegative() bool { return r.v < 0 }

// Max is the larger of r and o.
func (r Ratio) Max(o Ratio) Ratio {
	if o.v > r.v {
		return o
	}
	return r
}

// Min is the smaller of r and o.
func (r Ratio) Min(o Ratio) Ratio {
	if o.v < r.v {
		return o
	}
	return r
}

// Rat is the ratio as an exact rational.
func (r Ratio) Rat() *big.Rat { return ratScaled(r.v, 4) }
