package pgstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// randomUnits are int64s of every size, both signs and the extremes.
func randomUnits(rng *rand.Rand, n int) []int64 {
	out := []int64{0, 1, -1, 9999, 10000, -10000, 100_000_000, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}
	for len(out) < n {
		v := rng.Int63() >> rng.Intn(63)
		if rng.Intn(2) == 0 {
			v = -v
		}
		out = append(out, v)
	}
	return out
}

// ratOf is units × 10^-scale.
func ratOf(units int64, scale int) *big.Rat {
	return new(big.Rat).SetFrac(big.NewInt(units), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
}

// ratOfNumeric is the value of a pgtype.Numeric.
func ratOfNumeric(n pgtype.Numeric) *big.Rat {
	r := new(big.Rat).SetInt(n.Int)
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(n.Exp))), nil))
	if n.Exp >= 0 {
		return r.Mul(r, p)
	}
	return r.Quo(r, p)
}

func abs(e int32) int32 {
	if e < 0 {
		return -e
	}
	return e
}

// TestNumericBinaryAgainstPgx: the binary NUMERIC written for a figure is
// the value pgx's own (math/big) decoder reads, and what pgx's encoder
// writes for a value is read back as the same units, for every scale and
// a hundred thousand int64s of every size.
func TestNumericBinaryAgainstPgx(t *testing.T) {
	m := pgtype.NewMap()
	rng := rand.New(rand.NewSource(1))
	for _, scale := range []int{2, 4, 6} {
		for _, u := range randomUnits(rng, 100_000) {
			want := ratOf(u, scale)
			enc := appendNumericBinary(nil, u, scale)
			var n pgtype.Numeric
			if err := m.Scan(pgtype.NumericOID, pgtype.BinaryFormatCode, enc, &n); err != nil {
				t.Fatalf("%d at scale %d: pgx cannot read %x: %v", u, scale, enc, err)
			}
			if got := ratOfNumeric(n); got.Cmp(want) != 0 {
				t.Fatalf("%d at scale %d: written as %x, pgx reads %s", u, scale, enc, got.FloatString(scale))
			}
			// pgx writes the same value with its own choice of digits.
			pg, err := m.Encode(pgtype.NumericOID, pgtype.BinaryFormatCode, pgtype.Numeric{Int: big.NewInt(u), Exp: int32(-scale), Valid: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := numericBinaryUnits(pg, scale); err != nil || got != u {
				t.Fatalf("%d at scale %d: pgx's %x read as %d, %v", u, scale, pg, got, err)
			}
		}
	}
}

// numericBinary builds a binary NUMERIC by hand, zeros and all.
func numericBinary(weight int16, sign uint16, dscale int16, digits ...uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(digits)))
	b = binary.BigEndian.AppendUint16(b, uint16(weight))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(dscale))
	for _, d := range digits {
		b = binary.BigEndian.AppendUint16(b, d)
	}
	return b
}

// TestNumericBinaryEdges: leading and trailing zero digits and far
// weights read by value; more decimals than the type has, an overflow,
// NaN, infinities and malformed input are errors, never a rounding.
func TestNumericBinaryEdges(t *testing.T) {
	ok := []struct {
		src  []byte
		want int64 // fen
	}{
		{numericBinary(0, numericPositive, 2, 700), 70000},
		{numericBinary(0, numericPositive, 4, 12, 3400), 1234},                                // 12.3400
		{numericBinary(1, numericPositive, 0, 0, 700, 0, 0), 70000},                           // 0000 0700.0000 0000: zero digits
		{numericBinary(-1, numericNegative, 2, 100), -1},                                      // -0.0100
		{numericBinary(-1, numericPositive, 8, 1200, 0), 12},                                  // 0.12000000
		{numericBinary(-5, numericPositive, 0), 0},                                            // zero, any weight
		{numericBinary(4, numericPositive, 2, 9, 2233, 7203, 6854, 7758, 700), math.MaxInt64}, // 92233720368547758.07
		{numericBinary(4, numericNegative, 2, 9, 2233, 7203, 6854, 7758, 800), math.MinInt64},
	}
	for _, c := range ok {
		if got, err := numericBinaryUnits(c.src, 2); err != nil || got != c.want {
			t.Errorf("%x = %d, %v; want %d", c.src, got, err, c.want)
		}
	}
	refused := map[string]struct {
		src  []byte
		want error
	}{
		"0.001":                {numericBinary(-1, numericPositive, 3, 10), errTooManyPlaces},
		"0.00000001":           {numericBinary(-2, numericPositive, 8, 1), errTooManyPlaces},
		"92233720368547758.08": {numericBinary(4, numericPositive, 2, 9, 2233, 7203, 6854, 7758, 800), errOverflow},
		"10^80":                {numericBinary(20, numericPositive, 0, 1), errOverflow},
		"NaN":                  {numericBinary(0, 0xc000, 0), errNotANumber},
		"Infinity":             {numericBinary(0, 0xd000, 0), errNotANumber},
		"-Infinity":            {numericBinary(0, 0xf000, 0), errNotANumber},
		"a digit of 10000":     {numericBinary(0, numericPositive, 0, 10000), errMalformed},
		"short":                {[]byte{0, 1, 0, 0}, errMalformed},
		"digits missing":       {numericBinary(0, numericPositive, 0, 1)[:9], errMalformed},
	}
	for what, c := range refused {
		if got, err := numericBinaryUnits(c.src, 2); !errors.Is(err, c.want) {
			t.Errorf("%s: %d, %v; want %v", what, got, err, c.want)
		}
	}
}

// TestNumericText: the text format, as the simple protocol carries it.
func TestNumericText(t *testing.T) {
	for s, want := range map[string]int64{"700": 70000, "700.00": 70000, "12.3400": 1234, "-0.01": -1, "+1.5": 150, "0": 0,
		"-0.00": 0, "92233720368547758.07": math.MaxInt64, "-92233720368547758.08": math.MinInt64} {
		if got, err := numericTextUnits([]byte(s), 2); err != nil || got != want {
			t.Errorf("%q = %d, %v; want %d", s, got, err, want)
		}
	}
	for s, want := range map[string]error{"1.005": errTooManyPlaces, "92233720368547758.08": errOverflow, "NaN": errNotANumber,
		"Infinity": errNotANumber, "-Infinity": errNotANumber, "": errMalformed, "-": errMalformed, "1.": errMalformed,
		".5": errMalformed, "1e3": errMalformed, "1.0x": errMalformed} {
		if got, err := numericTextUnits([]byte(s), 2); !errors.Is(err, want) {
			t.Errorf("%q: %d, %v; want %v", s, got, err, want)
		}
	}
	rng := rand.New(rand.NewSource(2))
	for _, scale := range []int{2, 4, 6} {
		for _, u := range randomUnits(rng, 10_000) {
			txt := engine.AppendScaled(nil, u, scale)
			if got, err := numericTextUnits(txt, scale); err != nil || got != u {
				t.Fatalf("%d at scale %d: %q read as %d, %v", u, scale, txt, got, err)
			}
		}
	}
}

// TestFiguresAllocateNothing: sending a figure and scanning one into a
// figure allocate nothing (pgx's NumericCodec took 13 allocations to send
// one through math/big).
func TestFiguresAllocateNothing(t *testing.T) {
	m := pgtype.NewMap()
	registerFigures(m)
	money := engine.MustMoney("12345.67")
	var arg any = money // as a query's arguments hold it
	buf := make([]byte, 0, 64)
	src, err := m.Encode(pgtype.NumericOID, pgtype.BinaryFormatCode, money, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got engine.Money
	encode := m.PlanEncode(pgtype.NumericOID, pgtype.BinaryFormatCode, money)
	scan := m.PlanScan(pgtype.NumericOID, pgtype.BinaryFormatCode, &got)
	allocs := testing.AllocsPerRun(1000, func() {
		var err error
		if buf, err = encode.Encode(arg, buf[:0]); err != nil {
			t.Fatal(err)
		}
		if err := scan.Scan(src, &got); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || got != money {
		t.Errorf("encode and scan: %v allocations, read %s; want none, %s", allocs, got, money)
	}
}

// TestFiguresRoundTrip: every engine figure goes to PostgreSQL as the
// exact NUMERIC (PostgreSQL's own text of it is the figure's) and comes
// back equal, under the extended and the simple protocol, for thousands
// of values of every size; a NULL scans into a nil pointer and is refused
// otherwise; a NUMERIC with more decimals than the type has is refused.
func TestFiguresRoundTrip(t *testing.T) {
	url := pgtest.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	registerFigures(conn.TypeMap())

	money, ratio, qty := engine.MustMoney("-123456789012.34"), engine.MustRatio("0.8765"), engine.MustQuantity("2.5")
	price, points, pv := engine.MustPrice("35.123456"), engine.MustPoints("120.5"), engine.MustPointValue("0.987654")
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		var m engine.Money
		var r engine.Ratio
		var q engine.Quantity
		var p engine.Price
		var pt engine.Points
		var v engine.PointValue
		var text string
		var null *engine.Money
		err := conn.QueryRow(ctx, `SELECT $1::numeric(20, 2), $2::numeric, $3::numeric, $4::numeric, $5::numeric, $6::numeric,
				$1::numeric(20, 2)::text, NULL::numeric`, mode, money, ratio, qty, price, points, pv).
			Scan(&m, &r, &q, &p, &pt, &v, &text, &null)
		if err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		if m != money || r != ratio || q != qty || p != price || pt != points || v != pv || null != nil {
			t.Errorf("mode %v: read back %s %s %s %s %s %s %v", mode, m, r, q, p, pt, v, null)
		}
		if text != "-123456789012.34" {
			t.Errorf("mode %v: PostgreSQL holds %s", mode, text)
		}
		var back *engine.Money
		if err := conn.QueryRow(ctx, `SELECT $1::numeric`, mode, &money).Scan(&back); err != nil || back == nil || *back != money {
			t.Errorf("mode %v: a pointer to money: %v, %v", mode, back, err)
		}
		if err := conn.QueryRow(ctx, `SELECT $1::numeric + 0.001`, mode, money).Scan(&m); !errors.Is(err, errTooManyPlaces) {
			t.Errorf("mode %v: money + 0.001 read as %s, %v; want %v", mode, m, err, errTooManyPlaces)
		}
	}

	// Thousands of prices in one statement, sent as text (an array): what
	// comes back; then money, one value at a time as a parameter:
	// PostgreSQL's text of what was sent, and what comes back.
	rng := rand.New(rand.NewSource(3))
	units := randomUnits(rng, 3000)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		sent := make([]engine.Price, len(units))
		for i, u := range units {
			sent[i] = engine.PriceFromScaled(u)
		}
		rows, err := conn.Query(ctx, `SELECT x::text, x FROM unnest($1::numeric[]) AS x`, mode, figureTexts(sent))
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for rows.Next() {
			var text string
			var got engine.Price
			if err := rows.Scan(&text, &got); err != nil {
				t.Fatalf("mode %v: %v", mode, err)
			}
			if want := sent[i].String(); text != want || got != sent[i] {
				t.Errorf("mode %v: %s sent, PostgreSQL holds %s, read back %s", mode, want, text, got)
			}
			i++
		}
		if rows.Err() != nil || i != len(units) {
			t.Fatalf("mode %v: %d rows, %v", mode, i, rows.Err())
		}
		for _, u := range units[:300] { // one at a time: each goes as a parameter
			var text string
			var got engine.Money
			want := engine.MoneyFromFen(u)
			if err := conn.QueryRow(ctx, `SELECT $1::numeric::text, $1::numeric`, mode, want).Scan(&text, &got); err != nil {
				t.Fatal(err)
			}
			if text != string(engine.AppendScaled(nil, u, 2)) || got != want {
				t.Errorf("mode %v: %s sent, PostgreSQL holds %s, read back %s", mode, want, text, got)
			}
		}
	}

	var m engine.Money
	if err := conn.QueryRow(ctx, `SELECT 700.000::numeric`).Scan(&m); err != nil || m.String() != "700.00" {
		t.Errorf("700.000 = %s, %v", m, err)
	}
	for _, sql := range []string{`SELECT NULL::numeric`, `SELECT 1.005`, `SELECT 'NaN'::numeric`, `SELECT 1e30::numeric`} {
		if err := conn.QueryRow(ctx, sql).Scan(&m); err == nil {
			t.Errorf("%s: read as %s, want an error", sql, m)
		}
	}
}

// figureTexts are the texts of prices (an array parameter of text).
func figureTexts(ps []engine.Price) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprint(p)
	}
	return out
}
