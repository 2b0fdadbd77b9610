package engine_test

// A differential test of the fixed-point figures (Money, Ratio, Quantity,
// Price, Points) against shopspring/decimal, the arbitrary-precision
// decimal medsettle used before: parsing, formatting, sums, products
// rounded half away from zero, comparisons and the stored text, on
// millions of random operations biased toward the boundaries (exact
// halves of a fen, negative halves, MaxMoney, the int64 range) where an
// overflow must be reported, never wrapped. MEDSETTLE_SEED replays a
// failure, as for the property tests.

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/medsettle/medsettle/engine"
)

// diffOps is how many operations TestFixedAgainstDecimal checks: at least
// a million, fewer under -short or the race detector (which slows
// shopspring's big.Int arithmetic tenfold).
func diffOps() int {
	if testing.Short() || raceEnabled {
		return 150_000
	}
	return 1_200_000
}

// minUnits and maxUnits bound what a fixed-point figure can hold, in units.
var (
	minUnits = decimal.NewFromInt(math.MinInt64)
	maxUnits = decimal.NewFromInt(math.MaxInt64)
)

// units is d × 10^scale when it fits an int64.
func units(d decimal.Decimal, scale int32) (int64, bool) {
	s := d.Shift(scale)
	if !s.IsInteger() || s.LessThan(minUnits) || s.GreaterThan(maxUnits) {
		return 0, false
	}
	return s.IntPart(), true
}

// value draws a count of units biased toward the boundaries: small
// values, whole values, values near max (MaxMoney at the scale), near the
// int64 range and their negatives.
func (g *gen) value(scale int, max int64) int64 {
	var v int64
	switch g.intn(10) {
	case 0:
		v = int64(g.intn(1000))
	case 1:
		v = g.r.Int64N(pow10(1+g.intn(6))) * pow10(scale) // whole
	case 2:
		v = max - int64(g.intn(1000)) + int64(g.intn(1000))
	case 3:
		v = math.MaxInt64 - g.r.Int64N(1000)
	case 4:
		v = math.MaxInt64/pow10(1+g.intn(6)) + int64(g.intn(3)) - 1
	default:
		v = g.r.Int64N(pow10(1 + g.intn(18)))
	}
	if g.chance(0.3) {
		v = -v
	}
	return v
}

// halfFactors are ratios (in ten-thousandths) that put a product of an
// odd number of fen exactly on half a fen.
var halfFactors = []int64{5000, 2500, 7500, 1250, 3750, 6250, 8750, 15000, 12500, 625}

// TestFixedAgainstDecimal compares every operation of the fixed-point
// types with shopspring/decimal.
func TestFixedAgainstDecimal(t *testing.T) {
	g := newGen(t)
	n := diffOps()
	counts := map[string]int{}
	for i := 0; i < n; i++ {
		op := i % 8
		switch op {
		case 0:
			g.diffParse(counts)
		case 1:
			g.diffFormat(counts)
		case 2:
			g.diffAddSub(counts)
		case 3, 4:
			g.diffMulRatio(counts)
		case 5:
			g.diffMulQuantity(counts)
		case 6:
			g.diffCompare(counts)
		case 7:
			g.diffText(counts)
		}
	}
	// The boundaries were reached.
	for _, k := range []string{"half", "negative half", "overflow", "near MaxMoney", "parse ok", "parse refused", "price half"} {
		if counts[k] < n/1000 {
			g.fatalf("only %d operations of kind %q in %d: %v", counts[k], k, n, counts)
		}
	}
	t.Logf("%d operations: %v", n, counts)
}

// diffParse parses a random decimal string with every API parser and
// compares acceptance, value and text with the oracle.
func (g *gen) diffParse(counts map[string]int) {
	var b strings.Builder
	if g.chance(0.05) {
		b.WriteByte('-')
	}
	ints := 1 + g.intn(16)
	if g.chance(0.1) {
		ints = 1 + g.intn(24)
	}
	for i := 0; i < ints; i++ {
		b.WriteByte(byte('0' + g.intn(10)))
	}
	if g.chance(0.7) {
		b.WriteByte('.')
		for i, n := 0, 1+g.intn(8); i < n; i++ {
			b.WriteByte(byte('0' + g.intn(10)))
		}
	}
	s := b.String()
	d := decimal.RequireFromString(s)
	frac := 0
	if _, f, ok := strings.Cut(s, "."); ok {
		frac = len(f)
	}
	maxMoney := decimal.RequireFromString(engine.MaxMoney)
	type target struct {
		name   string
		scale  int32
		places int
		max    decimal.Decimal
		parse  func(string) (int64, string, error)
	}
	for _, p := range []target{
		{"money", 2, 2, maxMoney, func(s string) (int64, string, error) {
			m, err := engine.ParseMoney(s)
			return m.Fen(), m.String(), err
		}},
		{"ratio", 4, 4, decimal.NewFromInt(1), func(s string) (int64, string, error) {
			r, err := engine.ParseRatio(s)
			return r.Scaled(), r.String(), err
		}},
		{"quantity", 4, 4, maxUnits.Shift(-4), func(s string) (int64, string, error) {
			q, err := engine.ParseQuantity(s)
			return q.Scaled(), q.String(), err
		}},
		{"price", 6, 6, maxMoney, func(s string) (int64, string, error) {
			p, err := engine.ParsePrice(s)
			return p.Scaled(), p.String(), err
		}},
		{"points", 4, 4, maxUnits.Shift(-4), func(s string) (int64, string, error) {
			p, err := engine.ParsePoints(s)
			return p.Scaled(), p.String(), err
		}},
	} {
		v, text, err := p.parse(s)
		want := s[0] != '-' && len(s) <= engine.MaxDecimalLen && frac <= p.places && !d.GreaterThan(p.max)
		if (err == nil) != want {
			g.fatalf("parse %s %q: %v (value %d), the rules say ok=%v", p.name, s, err, v, want)
		}
		if err != nil {
			counts["parse refused"]++
			continue
		}
		counts["parse ok"]++
		u, _ := units(d, p.scale)
		wantText := d.String()
		if p.name == "money" {
			wantText = d.StringFixed(2)
		}
		if v != u || text != wantText {
			g.fatalf("parse %s %q = %d %q, the oracle %d %q", p.name, s, v, text, u, wantText)
		}
	}
}

// diffFormat renders random figures and compares with the oracle.
func (g *gen) diffFormat(counts map[string]int) {
	m := engine.MoneyFromFen(g.value(2, 100_000_000_000_000))
	dm := decimal.New(m.Fen(), -2)
	mt, _ := m.MarshalText()
	if m.String() != dm.StringFixed(2) || engine.FormatMoney(m) != dm.StringFixed(2) || string(mt) != dm.String() {
		g.fatalf("money %d fen renders %q / %q, the oracle %q / %q", m.Fen(), m.String(), mt, dm.StringFixed(2), dm.String())
	}
	r := engine.RatioFromScaled(g.value(4, 10_000))
	q := engine.QuantityFromScaled(g.value(4, 10_000_000_000))
	p := engine.PriceFromScaled(g.value(6, 1_000_000_000_000_000_000))
	pt := engine.PointsFromScaled(g.value(4, 10_000_000))
	for _, c := range []struct {
		what  string
		got   string
		units int64
		scale int32
	}{
		{"ratio", r.String(), r.Scaled(), 4}, {"quantity", q.String(), q.Scaled(), 4},
		{"price", p.String(), p.Scaled(), 6}, {"points", pt.String(), pt.Scaled(), 4},
	} {
		if want := decimal.New(c.units, -c.scale).String(); c.got != want {
			g.fatalf("%s %d renders %q, the oracle %q", c.what, c.units, c.got, want)
		}
	}
	if want := decimal.New(pt.Scaled(), -4).StringFixed(4); pt.StringFixed() != want {
		g.fatalf("points %d render %q fixed, the oracle %q", pt.Scaled(), pt.StringFixed(), want)
	}
	counts["format"]++
}

// panicsInvariant runs f and reports whether it panicked with an error
// wrapping ErrInvariant; any other panic fails the test.
func (g *gen) panicsInvariant(f func()) (panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			err, ok := r.(error)
			if !ok || !errors.Is(err, engine.ErrInvariant) {
				g.fatalf("panic %v is not an ErrInvariant error", r)
			}
			panicked = true
		}
	}()
	f()
	return false
}

// diffAddSub adds and subtracts money and ratios, near the int64 range
// too: a result out of range is reported (AddChecked false, Add and Sub
// panic with ErrInvariant), never wrapped.
func (g *gen) diffAddSub(counts map[string]int) {
	a, b := g.value(2, 100_000_000_000_000), g.value(2, 100_000_000_000_000)
	ma, mb := engine.MoneyFromFen(a), engine.MoneyFromFen(b)
	da, db := decimal.New(a, -2), decimal.New(b, -2)
	for _, c := range []struct {
		what string
		want decimal.Decimal
		op   func() engine.Money
	}{
		{"+", da.Add(db), func() engine.Money { return ma.Add(mb) }},
		{"-", da.Sub(db), func() engine.Money { return ma.Sub(mb) }},
	} {
		u, fits := units(c.want, 2)
		var got engine.Money
		panicked := g.panicsInvariant(func() { got = c.op() })
		if panicked == fits || (fits && got.Fen() != u) {
			g.fatalf("%s %s %s = %v (panicked %v), the oracle %s (fits %v)", da, c.what, db, got, panicked, c.want, fits)
		}
		if !fits {
			counts["overflow"]++
		}
	}
	sum, ok := ma.AddChecked(mb)
	u, fits := units(da.Add(db), 2)
	if ok != fits || (ok && sum.Fen() != u) {
		g.fatalf("AddChecked(%s, %s) = %s, %v; the oracle %s", da, db, sum, ok, da.Add(db))
	}
	ra, rb := engine.RatioFromScaled(g.value(4, 10_000)), engine.RatioFromScaled(g.value(4, 10_000))
	dra, drb := decimal.New(ra.Scaled(), -4), decimal.New(rb.Scaled(), -4)
	var rs engine.Ratio
	panicked := g.panicsInvariant(func() { rs = ra.Sub(rb) })
	if u, fits := units(dra.Sub(drb), 4); panicked == fits || (fits && rs.Scaled() != u) {
		g.fatalf("ratio %s - %s = %s (panicked %v), the oracle %s", dra, drb, rs, panicked, dra.Sub(drb))
	}
	if d := a - 100_000_000_000_000; d >= -1000 && d <= 1000 {
		counts["near MaxMoney"]++
	}
}

// diffMulRatio multiplies money by a ratio, rounded once to the fen half
// away from zero, against decimal's Round(2), with many products exactly
// on half a fen (positive and negative) and some beyond the int64 range.
func (g *gen) diffMulRatio(counts map[string]int) {
	var m, r int64
	switch g.intn(4) {
	case 0: // on half a fen: an odd number of fen times a ratio that halves it
		m = 2*g.r.Int64N(pow10(1+g.intn(13))) + 1
		r = halfFactors[g.intn(len(halfFactors))]
		if r%625 == 0 && r%1250 != 0 { // 1/16: m must be ≡ 8 (mod 16) for a half
			m = 16*g.r.Int64N(pow10(1+g.intn(12))) + 8
		} else if r%1250 == 0 && r%2500 != 0 { // 1/8: m ≡ 4 (mod 8)
			m = 8*g.r.Int64N(pow10(1+g.intn(12))) + 4
		} else if r%2500 == 0 && r%5000 != 0 { // 1/4: m ≡ 2 (mod 4)
			m = 4*g.r.Int64N(pow10(1+g.intn(12))) + 2
		}
		if g.chance(0.5) {
			m = -m
		}
	case 1:
		m, r = g.value(2, 100_000_000_000_000), g.value(4, 10_000)
	default:
		m, r = g.r.Int64N(pow10(1+g.intn(14))), int64(g.intn(10_001))
		if g.chance(0.3) {
			m = -m
		}
	}
	dm, dr := decimal.New(m, -2), decimal.New(r, -4)
	exact := dm.Mul(dr)
	want := exact.Round(2)
	u, fits := units(want, 2)
	var got engine.Money
	panicked := g.panicsInvariant(func() { got = engine.MoneyFromFen(m).MulRatio(engine.RatioFromScaled(r)) })
	if panicked == fits || (fits && got.Fen() != u) {
		g.fatalf("%s × %s = %s (panicked %v), the oracle %s (exact %s, fits %v)", dm, dr, got, panicked, want, exact, fits)
	}
	switch {
	case !fits:
		counts["overflow"]++
	case !exact.Equal(want) && exact.Sub(exact.Truncate(2)).Abs().Equal(decimal.New(5, -3)):
		if exact.IsNegative() {
			counts["negative half"]++
		} else {
			counts["half"]++
		}
	}
}

// diffMulQuantity multiplies a price by a quantity, rounded once to the
// fen, against the oracle; overflow is reported by ok.
func (g *gen) diffMulQuantity(counts map[string]int) {
	var p, q int64
	switch g.intn(3) {
	case 0: // on half a fen: 0.005 yuan more than a whole fen, times 1
		p, q = g.r.Int64N(pow10(1+g.intn(12)))*10_000+5_000, 10_000
		if g.chance(0.5) {
			p, q = (2*g.r.Int64N(pow10(1+g.intn(10)))+1)*10_000, 5_000 // an odd fen times 0.5
		}
	case 1:
		p, q = g.value(6, 1_000_000_000_000_000_000), g.value(4, 10_000_000_000)
	default:
		p, q = g.r.Int64N(pow10(1+g.intn(12))), g.r.Int64N(pow10(1+g.intn(10)))
	}
	dp, dq := decimal.New(p, -6), decimal.New(q, -4)
	exact := dp.Mul(dq)
	want := exact.Round(2)
	u, fits := units(want, 2)
	got, ok := engine.PriceFromScaled(p).MulQuantity(engine.QuantityFromScaled(q))
	if ok != fits || (ok && got.Fen() != u) {
		g.fatalf("%s × %s = %s, %v; the oracle %s (fits %v)", dp, dq, got, ok, want, fits)
	}
	if !fits {
		counts["overflow"]++
	} else if exact.Sub(exact.Truncate(2)).Abs().Equal(decimal.New(5, -3)) {
		counts["price half"]++
	}
}

// diffCompare compares figures with every comparison method.
func (g *gen) diffCompare(counts map[string]int) {
	a := g.value(2, 100_000_000_000_000)
	b := a + int64(g.intn(3)) - 1
	if g.chance(0.5) {
		b = g.value(2, 100_000_000_000_000)
	}
	ma, mb := engine.MoneyFromFen(a), engine.MoneyFromFen(b)
	c := decimal.New(a, -2).Cmp(decimal.New(b, -2))
	if ma.Cmp(mb) != c || ma.Equal(mb) != (c == 0) || ma.GreaterThan(mb) != (c > 0) || ma.GreaterThanOrEqual(mb) != (c >= 0) ||
		ma.LessThan(mb) != (c < 0) || ma.LessThanOrEqual(mb) != (c <= 0) {
		g.fatalf("comparing %s and %s disagrees with the oracle's %d", ma, mb, c)
	}
	if want := decimal.Min(decimal.New(a, -2), decimal.New(b, -2)); !decimal.New(ma.Min(mb).Fen(), -2).Equal(want) {
		g.fatalf("min(%s, %s) = %s", ma, mb, ma.Min(mb))
	}
	if ma.Sign() != decimal.New(a, -2).Sign() || ma.IsNegative() != (a < 0) || ma.IsPositive() != (a > 0) || ma.IsZero() != (a == 0) {
		g.fatalf("sign of %s", ma)
	}
	ra, rb := engine.RatioFromScaled(g.value(4, 10_000)), engine.RatioFromScaled(g.value(4, 10_000))
	if rc := decimal.New(ra.Scaled(), -4).Cmp(decimal.New(rb.Scaled(), -4)); ra.Cmp(rb) != rc || ra.LessThan(rb) != (rc < 0) {
		g.fatalf("comparing ratios %s and %s disagrees with the oracle's %d", ra, rb, rc)
	}
	counts["compare"]++
}

// diffText round-trips every type through MarshalText and UnmarshalText,
// and reads the oracle's text with trailing zeros.
func (g *gen) diffText(counts map[string]int) {
	m := engine.MoneyFromFen(g.value(2, 100_000_000_000_000))
	r := engine.RatioFromScaled(g.value(4, 10_000))
	q := engine.QuantityFromScaled(g.value(4, 10_000_000_000))
	p := engine.PriceFromScaled(g.value(6, 1_000_000_000_000_000_000))
	pt := engine.PointsFromScaled(g.value(4, 10_000_000))
	type textual interface {
		MarshalText() ([]byte, error)
	}
	check := func(what string, v textual, back interface{ UnmarshalText([]byte) error }, same func() bool, units int64, scale int32) {
		text, err := v.MarshalText()
		if err != nil {
			g.fatalf("%s.MarshalText: %v", what, err)
		}
		if want := decimal.New(units, -scale).String(); string(text) != want {
			g.fatalf("%s %d marshals %q, the oracle %q", what, units, text, want)
		}
		if err := back.UnmarshalText(text); err != nil || !same() {
			g.fatalf("%s %q does not read back: %v", what, text, err)
		}
		// Stored text may carry trailing zeros beyond the scale.
		padded := decimal.New(units, -scale).StringFixed(scale + int32(g.intn(3)))
		if err := back.UnmarshalText([]byte(padded)); err != nil || !same() {
			g.fatalf("%s %q does not read back: %v", what, padded, err)
		}
	}
	var m2 engine.Money
	check("money", m, &m2, func() bool { return m2 == m }, m.Fen(), 2)
	var r2 engine.Ratio
	check("ratio", r, &r2, func() bool { return r2 == r }, r.Scaled(), 4)
	var q2 engine.Quantity
	check("quantity", q, &q2, func() bool { return q2 == q }, q.Scaled(), 4)
	var p2 engine.Price
	check("price", p, &p2, func() bool { return p2 == p }, p.Scaled(), 6)
	var pt2 engine.Points
	check("points", pt, &pt2, func() bool { return pt2 == pt }, pt.Scaled(), 4)
	counts["text"]++
}

// storedText is the grammar UnmarshalText reads: an optional minus sign,
// digits, and an optional dot followed by digits.
var storedText = regexp.MustCompile(`^-?[0-9]+(?:\.[0-9]+)?$`)

// FuzzFixedRoundTrip reads fuzzed text with every fixed-point type's
// UnmarshalText: it is accepted exactly when it is a plain decimal of at
// most 40 characters whose value fits the type's scale and range; then
// its value is the oracle's (shopspring/decimal), its text the oracle's
// shortest form, and the text reads back to the same figure.
func FuzzFixedRoundTrip(f *testing.F) {
	for _, s := range []string{"0", "-0", "12.5", "700.00", "0.0001", "0.00001", "-3.50", "92233720368547758.07",
		"92233720368547758.08", "-92233720368547758.08", "922337203685477.5807", "9223372036854.775807", "1.000000000",
		"1e3", "+1", ".5", "1.", "", "--1", "0x10", " 1", "١٢"} {
		f.Add(s)
	}
	type kind struct {
		name  string
		scale int32
		read  func([]byte) (int64, string, error)
	}
	kinds := []kind{
		{"money", 2, func(b []byte) (int64, string, error) {
			var m engine.Money
			err := m.UnmarshalText(b)
			t, _ := m.MarshalText()
			return m.Fen(), string(t), err
		}},
		{"ratio", 4, func(b []byte) (int64, string, error) {
			var r engine.Ratio
			err := r.UnmarshalText(b)
			t, _ := r.MarshalText()
			return r.Scaled(), string(t), err
		}},
		{"quantity", 4, func(b []byte) (int64, string, error) {
			var q engine.Quantity
			err := q.UnmarshalText(b)
			t, _ := q.MarshalText()
			return q.Scaled(), string(t), err
		}},
		{"price", 6, func(b []byte) (int64, string, error) {
			var p engine.Price
			err := p.UnmarshalText(b)
			t, _ := p.MarshalText()
			return p.Scaled(), string(t), err
		}},
		{"points", 4, func(b []byte) (int64, string, error) {
			var p engine.Points
			err := p.UnmarshalText(b)
			t, _ := p.MarshalText()
			return p.Scaled(), string(t), err
		}},
	}
	f.Fuzz(func(t *testing.T, s string) {
		grammar := storedText.MatchString(s) && len(s) <= 40
		for _, k := range kinds {
			v, text, err := k.read([]byte(s))
			want := false
			var u int64
			if grammar {
				d := decimal.RequireFromString(s)
				u, want = units(d, k.scale)
				// Text reaches −(2^63 − 1) units at most: the range is
				// symmetric, so that every figure can be negated.
				want = want && u != math.MinInt64
				// The value must be exactly what the text says.
				if want {
					exact, _ := new(big.Rat).SetString(s)
					if new(big.Rat).SetFrac(big.NewInt(u), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k.scale)), nil)).Cmp(exact) != 0 {
						t.Fatalf("oracle units %d for %q", u, s)
					}
				}
			}
			if (err == nil) != want {
				t.Fatalf("%s.UnmarshalText(%q) = %d, %v; the grammar and range say ok=%v", k.name, s, v, err, want)
			}
			if err != nil {
				continue
			}
			if wantText := decimal.New(u, -k.scale).String(); v != u || text != wantText {
				t.Fatalf("%s.UnmarshalText(%q) = %d %q, the oracle %d %q", k.name, s, v, text, u, wantText)
			}
			back, text2, err := k.read([]byte(text))
			if err != nil || back != v || text2 != text {
				t.Fatalf("%s %q reads back as %d %q, %v", k.name, text, back, text2, err)
			}
		}
	})
}

// ExampleMoney_MulRatio shows the one rounding: half away from zero, once.
func ExampleMoney_MulRatio() {
	half := engine.MustRatio("0.5")
	for _, s := range []string{"0.01", "0.03", "-0.01", "-0.03"} {
		fmt.Println(s, "× 0.5 =", engine.MustMoney(s).MulRatio(half))
	}
	// Output:
	// 0.01 × 0.5 = 0.01
	// 0.03 × 0.5 = 0.02
	// -0.01 × 0.5 = -0.01
	// -0.03 × 0.5 = -0.02
}
