package engine

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/shopspring/decimal"
)

// Exact integer arithmetic for the clearers' hot paths. Every helper
// either gives the exact result (rounded half away from zero where it
// rounds) or reports that it cannot, in which case the caller falls back
// to decimal and big.Rat arithmetic: the fast path never approximates.

// pow10u[i] is 10^i; 10^19 is the largest power of ten in a uint64.
var pow10u = func() [20]uint64 {
	var p [20]uint64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// mulDivRound is x × y / d rounded half up (half away from zero: all
// operands are non-negative), computed on 128 bits. ok is false when d is
// 0 or the quotient does not fit an int64.
func mulDivRound(x, y, d uint64) (uint64, bool) {
	hi, lo := bits.Mul64(x, y)
	if d == 0 || hi >= d {
		return 0, false
	}
	q, r := bits.Div64(hi, lo, d)
	if r >= d-r { // 2r ≥ d: the remainder is at least half
		q++
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	return q, true
}

// mulPow10Round is x × y × 10^e rounded half up. ok is false when the
// result does not fit an int64 or e is out of the table's range.
func mulPow10Round(x, y uint64, e int32) (uint64, bool) {
	if e < 0 {
		if e < -19 {
			return 0, false
		}
		return mulDivRound(x, y, pow10u[-e])
	}
	if e > 19 {
		return 0, false
	}
	hi, lo := bits.Mul64(x, y)
	if hi != 0 {
		return 0, false
	}
	hi, lo = bits.Mul64(lo, pow10u[e])
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return lo, true
}

// mulPow10 is x × 10^e for e ≥ 0, ok false on overflow of an int64.
func mulPow10(x uint64, e int32) (uint64, bool) {
	return mulPow10Round(x, 1, e)
}

// scaledInt is d × 10^places when that is an integer that fits an int64
// (money in fen for places 2, points in 1/10000 for places 4).
func scaledInt(d decimal.Decimal, places int32) (int64, bool) {
	if d.NumDigits() > 18 {
		return 0, false
	}
	c := d.CoefficientInt64()
	e := d.Exponent() + places
	switch {
	case c == 0:
		return 0, true
	case e >= 0:
		if e > 18 {
			return 0, false
		}
		p := int64(pow10u[e])
		if c > math.MaxInt64/p || c < -math.MaxInt64/p {
			return 0, false
		}
		return c * p, true
	default:
		if e < -18 {
			return 0, false
		}
		p := int64(pow10u[-e])
		if c%p != 0 {
			return 0, false
		}
		return c / p, true
	}
}

// decParts splits a positive decimal into coefficient × 10^exp with the
// coefficient's trailing zeros moved into the exponent. ok is false when
// d is not positive or its coefficient does not fit a uint64.
func decParts(d decimal.Decimal) (coef uint64, exp int32, ok bool) {
	if !d.IsPositive() {
		return 0, 0, false
	}
	c := d.Coefficient()
	if !c.IsUint64() {
		return 0, 0, false
	}
	coef, exp = c.Uint64(), d.Exponent()
	for coef%10 == 0 {
		coef /= 10
		exp++
	}
	return coef, exp, true
}

// exactSum adds decimals exactly at a fixed scale: in an int64 while the
// addends are whole multiples of the scale and the sum fits, in a decimal
// for the rest.
type exactSum struct {
	n    int64
	rest decimal.Decimal
}

// add adds d, counted in units of 10^−places.
func (s *exactSum) add(d decimal.Decimal, places int32) {
	if v, ok := scaledInt(d, places); ok && s.addInt(v) {
		return
	}
	s.rest = s.rest.Add(d)
}

// addInt adds v units; false (and nothing added) on overflow.
func (s *exactSum) addInt(v int64) bool {
	sum := s.n + v
	if (v > 0 && sum < s.n) || (v < 0 && sum > s.n) {
		return false
	}
	s.n = sum
	return true
}

// value is the sum.
func (s *exactSum) value(places int32) decimal.Decimal {
	v := decimal.New(s.n, -places)
	if s.rest.IsZero() {
		return v
	}
	return v.Add(s.rest)
}

// decCacheBits sizes a decCache: 4,096 entries.
const decCacheBits = 12

// decCache remembers the decimals it made for integers at one scale, so
// that the values that recur over a run (ratios near 1, the points of a
// group's normal cases) are allocated once. A decimal.Decimal is
// immutable: the case lines that share one cannot change it.
type decCache struct {
	exp  int32
	keys [1 << decCacheBits]int64
	set  [1 << decCacheBits]bool
	vals [1 << decCacheBits]decimal.Decimal
}

// get is v × 10^exp.
func (c *decCache) get(v int64) decimal.Decimal {
	i := (uint64(v) * 0x9e3779b97f4a7c15) >> (64 - decCacheBits)
	if c.set[i] && c.keys[i] == v {
		return c.vals[i]
	}
	d := decimal.New(v, c.exp)
	c.keys[i], c.set[i], c.vals[i] = v, true, d
	return d
}

// decTable holds the decimals v × 10^exp for 0 ≤ v < 65,536 it was asked
// for, in chunks of 1,024 made on demand (a DRG ratio r × 10^4 below
// 6.5536 is almost every case's), and leaves other values to a decCache.
type decTable struct {
	chunks [64]*[1024]cachedDec
	other  decCache
}

// cachedDec is a decTable entry; ok says it is filled.
type cachedDec struct {
	d  decimal.Decimal
	ok bool
}

func newDecTable(exp int32) *decTable {
	return &decTable{other: decCache{exp: exp}}
}

// get is v × 10^exp.
func (t *decTable) get(v int64) decimal.Decimal {
	if v < 0 || v >= 64*1024 {
		return t.other.get(v)
	}
	ch := t.chunks[v>>10]
	if ch == nil {
		ch = new([1024]cachedDec)
		t.chunks[v>>10] = ch
	}
	e := &ch[v&1023]
	if !e.ok {
		e.d, e.ok = decimal.New(v, t.other.exp), true
	}
	return e.d
}

// runState is where a Clearer is in its Begin, Add…, Finish sequence.
type runState int

const (
	stateNew runState = iota
	stateBegun
	stateFinished
)

// step moves from the state a call needs to the next one, or says why
// the call is out of order.
func (s *runState) step(call string, need, next runState) error {
	if *s != need {
		return fmt.Errorf("%w: clearer: %s called %s", ErrInvariant, call, map[runState]string{
			stateNew: "before Begin", stateBegun: "twice or after Begin", stateFinished: "after Finish"}[*s])
	}
	*s = next
	return nil
}
