package engine

import "math/big"

// Quantity is an exact count of a line item with four decimals (MaxQuantityPlaces),
// kept as ten-thousandths in an int64. The zero value is 0.
type Quantity struct{ v int64 }

// QuantityFromScaled is n ten-thousandths.
func QuantityFromScaled(n int64) Quantity { return Quantity{n} }

// QuantityOf is n whole units.
func QuantityOf(n int64) Quantity { return Quantity{n * 10_000} }

// Scaled is the quantity as a whole number of ten-thousandths.
func (q Quantity) Scaled() int64 { return q.v }

// ParseQuantity parses a non-negative quantity with at most
// MaxQuantityPlaces decimals (its range is CheckQuantityAt's).
func ParseQuantity(s string) (Quantity, error) {
	v, err := parseScaled(s, 4, MaxQuantityPlaces, MaxDecimalLen, false, true)
	if err != nil {
		return Quantity{}, err
	}
	return Quantity{v}, nil
}

// MustQuantity parses a literal quantity and panics if it is not one:
// for constants and tests.
func MustQuantity(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(err)
	}
	return q
}

// String renders the quantity in its shortest exact form ("2", "0.5").
func (q Quantity) String() string { return formatScaled(q.v, 4, 0) }

// MarshalText writes the quantity as String does.
func (q Quantity) MarshalText() ([]byte, error) { return []byte(q.String()), nil }

// UnmarshalText reads a stored quantity.
func (q *Quantity) UnmarshalText(text []byte) error {
	v, err := unmarshalScaled(text, 4, "quantity")
	if err != nil {
		return err
	}
	q.v = v
	return nil
}

// Cmp compares: −1 if q < o, 0 if equal, +1 if q > o.
func (q Quantity) Cmp(o Quantity) int { return cmp64(q.v, o.v) }

// Equal reports q = o.
func (q Quantity) Equal(o Quantity) bool { return q.v == o.v }

// GreaterThan reports q > o.
func (q Quantity) GreaterThan(o Quantity) bool { return q.v > o.v }

// IsPositive reports q > 0.
func (q Quantity) IsPositive() bool { return q.v > 0 }

// Rat is the quantity as an exact rational.
func (q Quantity) Rat() *big.Rat { return ratScaled(q.v, 4) }

// maxQuantity is the largest quantity a line may carry.
var maxQuantity = QuantityOf(1_000_000)
