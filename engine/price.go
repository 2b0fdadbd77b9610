package engine

import (
	"errors"
	"fmt"
	"math/big"
)

// priceUnit is the number of price units in one yuan.
const priceUnit = 1_000_000

// maxPriceScaled is MaxMoney in price units.
const maxPriceScaled = 1_000_000_000_000 * priceUnit

// Price is an exact unit price or price cap in yuan with six decimals
// (MaxPricePlaces, the national interface's pric 16,6), kept as millionths
// of a yuan in an int64. It becomes Money only through MulQuantity, rounded
// to the fen. The zero value is 0.
type Price struct{ v int64 }

// PriceFromScaled is n millionths of a yuan.
func PriceFromScaled(n int64) Price { return Price{n} }

// Scaled is the price as a whole number of millionths of a yuan.
func (p Price) Scaled() int64 { return p.v }

// ParsePrice parses a non-negative price with at most MaxPricePlaces
// decimals and at most MaxMoney.
func ParsePrice(s string) (Price, error) {
	v, err := parseScaled(s, 6, MaxPricePlaces, MaxDecimalLen, false, true)
	if errors.Is(err, errTooLarge) || (err == nil && v > maxPriceScaled) {
		return Price{}, fmt.Errorf("%q is above the limit of %s", truncate(s, 30), MaxMoney)
	}
	if err != nil {
		return Price{}, err
	}
	return Price{v}, nil
}

// MustPrice parses a literal price and panics if it is not one: for
// constants and tests.
func MustPrice(s string) Price {
	p, err := ParsePrice(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String renders the price in its shortest exact form ("35.5", "0.000001").
func (p Price) String() string { return formatScaled(p.v, 6, 0) }

// MarshalText writes the price as String does.
func (p Price) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a stored price.
func (p *Price) UnmarshalText(text []byte) error {
	v, err := unmarshalScaled(text, 6, "price")
	if err != nil {
		return err
	}
	p.v = v
	return nil
}

// Sub is p − o.
func (p Price) Sub(o Price) Price { return Price{mustSub(p.v, o.v)} }

// MulQuantity is p × q rounded to the fen, half away from zero, and false
// when it leaves the int64 range (far above MaxMoney).
func (p Price) MulQuantity(q Quantity) (Money, bool) {
	// millionths × ten-thousandths = 10^-10 yuan; the fen is 10^-2.
	v, ok := mulDivRound(p.v, q.v, 100_000_000)
	return Money{v}, ok
}

// Cmp compares: −1 if p < o, 0 if equal, +1 if p > o.
func (p Price) Cmp(o Price) int { return cmp64(p.v, o.v) }

// Equal reports p = o.
func (p Price) Equal(o Price) bool { return p.v == o.v }

// GreaterThan reports p > o.
func (p Price) GreaterThan(o Price) bool { return p.v > o.v }

// IsNegative reports p < 0.
func (p Price) IsNegative() bool { return p.v < 0 }

// Rat is the price as an exact rational.
func (p Price) Rat() *big.Rat { return ratScaled(p.v, 6) }
