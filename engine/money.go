package engine

import (
	"errors"
	"fmt"
	"math/big"
)

// Limits on the decimal strings the engine accepts, so that a hostile input
// cannot make parsing arbitrarily expensive.
const (
	// MaxDecimalLen is the longest decimal string accepted.
	MaxDecimalLen = 24
	// MaxMoney is the largest amount of money accepted anywhere (one trillion yuan).
	MaxMoney = "1000000000000"
)

// maxMoneyFen is MaxMoney in fen.
const maxMoneyFen = 1_000_000_000_000_00

// Money is an exact amount of yuan, kept as a whole number of fen (0.01
// yuan) in an int64: the one money type of medsettle. The zero value is
// 0.00. Money is added and compared with its methods; it is multiplied
// only by a Ratio (MulRatio) or an integer (MulInt), and the product is
// rounded to the fen half away from zero, so a ratio or a price can never
// be passed where money is expected.
type Money struct{ fen int64 }

// MoneyFromFen is n fen.
func MoneyFromFen(n int64) Money { return Money{n} }

// Yuan is n whole yuan.
func Yuan(n int64) Money { return Money{n * 100} }

// Fen is the amount as a whole number of fen.
func (m Money) Fen() int64 { return m.fen }

// ParseMoney parses a non-negative amount of money with at most two
// decimals and at most MaxMoney, as the API takes it ("700", "12.5",
// "0.01").
func ParseMoney(s string) (Money, error) {
	v, err := parseScaled(s, 2, 2, MaxDecimalLen, false, true)
	if errors.Is(err, errTooLarge) || (err == nil && v > maxMoneyFen) {
		return Money{}, fmt.Errorf("%q is above the limit of %s", truncate(s, 30), MaxMoney)
	}
	if err != nil {
		return Money{}, err
	}
	return Money{v}, nil
}

// MustMoney parses a literal amount (signed, at most two decimals) and
// panics if it is not one: for constants and tests.
func MustMoney(s string) Money {
	v, err := parseScaled(s, 2, 2, maxStoredLen, true, true)
	if err != nil {
		panic(err)
	}
	return Money{v}
}

// String renders the amount with exactly two decimals ("700.00", "-3.50").
func (m Money) String() string { return formatScaled(m.fen, 2, 2) }

// AppendFixed appends the amount with exactly two decimals, as String
// renders it, to b: for answers that render many amounts into one buffer.
func (m Money) AppendFixed(b []byte) []byte { return AppendScaled(b, m.fen, 2) }

// FormatMoney renders money with exactly two decimals ("700.00").
func FormatMoney(m Money) string { return m.String() }

// MarshalText writes the amount in its shortest exact form ("700",
// "12.5"), the form stored documents have always used.
func (m Money) MarshalText() ([]byte, error) { return []byte(formatScaled(m.fen, 2, 0)), nil }

// UnmarshalText reads a stored amount: signed, with decimals beyond the
// fen only if they are zeros.
func (m *Money) UnmarshalText(text []byte) error {
	v, err := unmarshalScaled(text, 2, "money")
	if err != nil {
		return err
	}
	m.fen = v
	return nil
}

// Add is m + o.
func (m Money) Add(o Money) Money { return Money{mustAdd(m.fen, o.fen)} }

// Sub is m − o.
func (m Money) Sub(o Money) Money { return Money{mustSub(m.fen, o.fen)} }

// AddChecked is m + o, and false when the sum leaves the int64 range:
// for totals over unbounded numbers of settlements (clearing).
func (m Money) AddChecked(o Money) (Money, bool) {
	s, ok := addChecked(m.fen, o.fen)
	return Money{s}, ok
}

// Neg is −m.
func (m Money) Neg() Money { return Money{mustSub(0, m.fen)} }

// MulRatio is m × r rounded to the fen, half away from zero.
func (m Money) MulRatio(r Ratio) Money {
	v, ok := mulDivRound(m.fen, r.v, ratioUnit)
	if !ok {
		panic(fmt.Errorf("%w: fixed-point overflow multiplying %s by %s", ErrInvariant, m, r))
	}
	return Money{v}
}

// MulInt is m × n, and false when the product leaves the int64 range.
func (m Money) MulInt(n int64) (Money, bool) {
	v, ok := mulDivRound(m.fen, n, 1)
	return Money{v}, ok
}

// Cmp compares: −1 if m < o, 0 if equal, +1 if m > o.
func (m Money) Cmp(o Money) int { return cmp64(m.fen, o.fen) }

// Equal reports m = o.
func (m Money) Equal(o Money) bool { return m.fen == o.fen }

// GreaterThan reports m > o.
func (m Money) GreaterThan(o Money) bool { return m.fen > o.fen }

// GreaterThanOrEqual reports m ≥ o.
func (m Money) GreaterThanOrEqual(o Money) bool { return m.fen >= o.fen }

// LessThan reports m < o.
func (m Money) LessThan(o Money) bool { return m.fen < o.fen }

// LessThanOrEqual reports m ≤ o.
func (m Money) LessThanOrEqual(o Money) bool { return m.fen <= o.fen }

// IsZero reports m = 0.
func (m Money) IsZero() bool { return m.fen == 0 }

// IsPositive reports m > 0.
func (m Money) IsPositive() bool { return m.fen > 0 }

// IsNegative reports m < 0.
func (m Money) IsNegative() bool { return m.fen < 0 }

// Sign is −1, 0 or +1.
func (m Money) Sign() int { return cmp64(m.fen, 0) }

// Min is the smaller of m and o.
func (m Money) Min(o Money) Money {
	if o.fen < m.fen {
		return o
	}
	return m
}

// Max is the larger of m and o.
func (m Money) Max(o Money) Money {
	if o.fen > m.fen {
		return o
	}
	return m
}

// Rat is the amount in yuan as an exact rational, for the exact
// arithmetic of clearing.
func (m Money) Rat() *big.Rat { return ratScaled(m.fen, 2) }
