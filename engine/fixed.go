package engine

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strings"
)

// The engine's figures are fixed-point integers: a count of 10^-scale
// units in an int64. Money counts fen (scale 2), ratios and quantities
// ten-thousandths (scale 4), prices millionths (scale 6). Addition is exact
// and checked; a product is computed on 128 bits and rounded once, half
// away from zero (the one rounding rule of SETTLEMENT.md). Nothing here
// allocates except formatting and the exact big.Rat views.

// pow10 holds 10^0 … 10^18.
var pow10 = [...]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000,
	100_000_000, 1_000_000_000, 10_000_000_000, 100_000_000_000, 1_000_000_000_000,
	10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
	10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000}

// addChecked is a + b, and false when the sum does not fit an int64.
func addChecked(a, b int64) (int64, bool) {
	s := a + b
	if (s > a) != (b > 0) {
		return 0, false
	}
	return s, true
}

// mustAdd is a + b; an overflow is a broken invariant (every figure the
// engine takes is bounded far below it), so it panics, which the server's
// recovery answers as an internal error. The panic's value is a small
// struct whose message is built only when it is read (overflowError), so
// that mustAdd, and with it Money.Add and every sum of a settlement, is
// inlined rather than called.
func mustAdd(a, b int64) int64 {
	s := a + b
	if (s > a) != (b > 0) {
		panic(overflowError{a, b, false})
	}
	return s
}

// mustSub is a − b, panicking on overflow as mustAdd does: as a + (−b),
// so that subtracting math.MinInt64 always panics.
func mustSub(a, b int64) int64 {
	s := a - b
	if b == math.MinInt64 || (s < a) != (b > 0) {
		panic(overflowError{a, b, true})
	}
	return s
}

// overflowError is the panic of mustAdd (a + b) and mustSub (a − b): an
// error wrapping ErrInvariant with the message they have always had.
type overflowError struct {
	a, b int64
	sub  bool
}

func (e overflowError) Error() string {
	switch {
	case !e.sub:
		return fmt.Sprintf("%v: fixed-point overflow adding %d and %d", ErrInvariant, e.a, e.b)
	case e.b == math.MinInt64:
		return fmt.Sprintf("%v: fixed-point overflow subtracting %d from %d", ErrInvariant, e.b, e.a)
	default: // a − b overflowed as a + (−b)
		return fmt.Sprintf("%v: fixed-point overflow adding %d and %d", ErrInvariant, e.a, -e.b)
	}
}

// Unwrap makes the panic an ErrInvariant error (errors.Is).
func (e overflowError) Unwrap() error { return ErrInvariant }

// abs64 is |a| as an unsigned integer (exact for math.MinInt64 too).
func abs64(a int64) uint64 {
	if a < 0 {
		return uint64(-(a + 1)) + 1
	}
	return uint64(a)
}

// mulDivRound is a × b ÷ d rounded half away from zero, computed on 128
// bits; false when the result does not fit an int64. d must be > 0.
func mulDivRound(a, b, d int64) (int64, bool) {
	neg := (a < 0) != (b < 0)
	hi, lo := bits.Mul64(abs64(a), abs64(b))
	ud := uint64(d)
	if hi >= ud {
		return 0, false
	}
	q, r := bits.Div64(hi, lo, ud)
	if r >= ud-r { // 2r ≥ d: half or more rounds away from zero
		q++
		if q == 0 {
			return 0, false
		}
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(q), true
	}
	return int64(q), true
}

// cmp64 compares two integers: −1, 0 or +1.
func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseScaled parses a plain decimal "123", "12.5", "0.0001" into a count
// of 10^-scale units. A sign is accepted only when signed ("-1.5"; "-0" is
// zero). More than maxPlaces decimals is refused when strict; otherwise
// decimals beyond scale must be zeros ("700.000" reads as 700.00 money).
// Exponents, spaces, a lone dot and strings longer than maxLen are refused,
// as is a value that does not fit an int64 at the scale.
func parseScaled(s string, scale, maxPlaces, maxLen int, signed, strict bool) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty decimal")
	}
	if len(s) > maxLen {
		return 0, fmt.Errorf("decimal %q is longer than %d characters", truncate(s, 30), maxLen)
	}
	neg := false
	if s[0] == '-' {
		if !signed {
			return 0, fmt.Errorf("%q is negative; amounts, prices, quantities and ratios never are", truncate(s, 30))
		}
		neg, s = true, s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return 0, fmt.Errorf("%q is not a plain decimal like \"1234.50\"", truncate(s, 30))
	}
	if strict && len(frac) > maxPlaces {
		return 0, fmt.Errorf("%q has more than %d decimals", s, maxPlaces)
	}
	if len(frac) > scale {
		if strings.TrimRight(frac[scale:], "0") != "" {
			return 0, fmt.Errorf("%q has more than %d decimals", s, scale)
		}
		frac = frac[:scale]
	}
	var n uint64
	for i := 0; i < len(intPart); i++ {
		n = n*10 + uint64(intPart[i]-'0')
		if n > math.MaxInt64/uint64(pow10[scale]) {
			return 0, fmt.Errorf("%q is too large: %w", truncate(s, 30), errTooLarge)
		}
	}
	n *= uint64(pow10[scale])
	var f uint64
	for i := 0; i < len(frac); i++ {
		f = f*10 + uint64(frac[i]-'0')
	}
	f *= uint64(pow10[scale-len(frac)])
	if n+f > math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large: %w", truncate(s, 30), errTooLarge)
	}
	v := int64(n + f)
	if neg {
		v = -v
	}
	return v, nil
}

// formatScaled renders a count of 10^-scale units with at least minPlaces
// decimals: trailing zeros beyond minPlaces are dropped, and the dot with
// them when none is left ("12.5", "7", "700.00").
func formatScaled(v int64, scale, minPlaces int) string {
	var buf [32]byte
	return string(appendScaled(buf[:0], v, scale, minPlaces))
}

// AppendScaled appends units × 10^-scale exactly, with scale decimals
// ("1234.50" for 123450 at scale 2), without allocating: for adapters that
// write a figure of any of the engine's types by its count of units (a
// store's NUMERIC and COPY text). scale is 0 to 18.
func AppendScaled(b []byte, units int64, scale int) []byte {
	return appendScaled(b, units, scale, scale)
}

// appendScaled appends v as formatScaled renders it.
func appendScaled(b []byte, v int64, scale, minPlaces int) []byte {
	var buf [scaledLen]byte
	return append(b, scaledDigits(&buf, v, scale, minPlaces)...)
}

// scaledLen is room for any scaledDigits: a sign, 19 digits and a dot.
const scaledLen = 24

// scaledDigits writes v × 10^-scale at the end of buf and returns it: the
// fraction with at least minPlaces places and no trailing zero beyond
// them. It writes digit by digit from the right, after one division by
// 10^scale, rather than formatting the whole part and the fraction apart
// with strconv and padding the fraction: responses render every figure,
// and the fingerprint three of every line (shortScaled).
func scaledDigits(buf *[scaledLen]byte, v int64, scale, minPlaces int) []byte {
	u := abs64(v)
	unit := uint64(pow10[scale])
	whole, frac := u/unit, u%unit
	places := scale
	if frac == 0 { // a whole figure, as most are: no zeros to drop one by one
		places = min(places, minPlaces)
	}
	for places > minPlaces && frac%10 == 0 {
		frac /= 10
		places--
	}
	i := len(buf)
	if places > 0 {
		for range places {
			i--
			buf[i] = byte('0' + frac%10)
			frac /= 10
		}
		i--
		buf[i] = '.'
	}
	for {
		i--
		buf[i] = byte('0' + whole%10)
		whole /= 10
		if whole == 0 {
			break
		}
	}
	if v < 0 {
		i--
		buf[i] = '-'
	}
	return buf[i:]
}

// ratScaled is v × 10^-scale as an exact rational.
func ratScaled(v int64, scale int) *big.Rat {
	return new(big.Rat).SetFrac(big.NewInt(v), big.NewInt(pow10[scale]))
}

// unmarshalScaled reads stored text: signed, any number of trailing zero
// decimals, at most maxStoredLen characters.
func unmarshalScaled(text []byte, scale int, what string) (int64, error) {
	v, err := parseScaled(string(text), scale, scale, maxStoredLen, true, false)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", what, err)
	}
	return v, nil
}

// errTooLarge marks a decimal that does not fit an int64 at its scale.
var errTooLarge = errors.New("out of range")

// maxStoredLen bounds the stored decimal texts read back.
const maxStoredLen = 40

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
