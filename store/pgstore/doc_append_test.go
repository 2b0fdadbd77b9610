package pgstore

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/medsettle/medsettle/engine"
)

// benchDocs is a realistic settlement's documents' values: a claim of six
// lines, its result (five detail lines, two layers, a budget) and the
// person's accumulators.
func benchDocs() (engine.Claim, engine.Result, engine.Accumulators) {
	c := goldenClaim()
	names := []string{"青霉素注射液", "头孢曲松钠", "CT平扫", "血常规", "住院床位费", "静脉输液"}
	c.Items = c.Items[:0]
	for i, n := range names {
		c.Items = append(c.Items, engine.LineItem{Code: "XA01AB" + string(rune('0'+i)) + "-0001", Name: n,
			Quantity: engine.MustQuantity("2.5"), UnitPrice: engine.MustPrice("35.125"), Amount: engine.MustMoney("87.81")})
	}
	return c, layeredResult(), goldenAccumulators()
}

// BenchmarkEncodeSettlementDocs is the encoding of a settlement's three
// stored documents (claim, result, accumulators), as the store writes
// them for every settlement.
func BenchmarkEncodeSettlementDocs(b *testing.B) {
	c, r, a := benchDocs()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeClaim(c); err != nil {
			b.Fatal(err)
		}
		if _, err := encodeResult(r); err != nil {
			b.Fatal(err)
		}
		if _, err := encodeAccumulators(a); err != nil {
			b.Fatal(err)
		}
	}
}

// appendSeed replays TestAppendDocsMatchMarshal's values: its failures
// name the seed they were found with.
var appendSeed = flag.Uint64("append-seed", 0, "seed of TestAppendDocsMatchMarshal's random values (0: from the clock)")

// TestAppendDocsMatchMarshal: the stored documents appended by hand are
// byte for byte what json.Marshal writes for the same stored structs, for
// many random values: strings with every kind of character json escapes
// (quotes, backslashes, control characters, < > &, U+2028 and U+2029,
// invalid UTF-8) and non-ASCII text, figures over the whole int64 range,
// nil, empty and filled slices and maps, nil and non-nil pointers, map
// keys of many digits and signs, and documents with and without a
// version.
func TestAppendDocsMatchMarshal(t *testing.T) {
	seed := *appendSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	rounds := 20_000
	if testing.Short() {
		rounds = 2_000
	}
	g := docGen{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	prefix := []byte("0.0")
	check := func(i int, what string, v any, appendJSON func([]byte) []byte) {
		t.Helper()
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("seed %d, value %d: json.Marshal of a %s: %v", seed, i, what, err)
		}
		if got := appendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("seed %d (go test -run TestAppendDocsMatchMarshal -append-seed %d), value %d: a %s is appended as\n%s\njson.Marshal writes\n%s\nthe value: %#v",
				seed, seed, i, what, got, want, v)
		}
		// Appended after other bytes, a document leaves them as they are.
		if got := appendJSON(bytes.Clone(prefix)); !bytes.Equal(got, append(bytes.Clone(prefix), want...)) {
			t.Fatalf("seed %d, value %d: a %s appended after %q is\n%s\nwant the prefix and\n%s", seed, i, what, prefix, got, want)
		}
	}
	for i := range rounds {
		c := g.claim()
		check(i, "claim", c, c.appendJSON)
		r := g.result()
		check(i, "result", r, r.appendJSON)
		a := g.accumulators()
		check(i, "accumulators", a, a.appendJSON)
	}
}

// TestAppendDocsFigures: every figure type is appended as json.Marshal
// writes it, at the edges of int64 and at every power of ten, signed.
func TestAppendDocsFigures(t *testing.T) {
	vals := []int64{math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for p := int64(1); p <= math.MaxInt64/10; p *= 10 {
		for _, d := range []int64{p, p - 1, p + 1, 5 * p, 10*p - 1} {
			vals = append(vals, d, -d)
		}
	}
	vals = append(vals, 0)
	for _, v := range vals {
		figures := []struct {
			v          any
			appendJSON func([]byte) []byte
		}{
			{engine.MoneyFromFen(v), func(b []byte) []byte { return appendDocMoney(b, engine.MoneyFromFen(v)) }},
			{engine.RatioFromScaled(v), func(b []byte) []byte { return appendDocRatio(b, engine.RatioFromScaled(v)) }},
			{engine.QuantityFromScaled(v), func(b []byte) []byte { return appendDocQuantity(b, engine.QuantityFromScaled(v)) }},
			{engine.PriceFromScaled(v), func(b []byte) []byte { return appendDocPrice(b, engine.PriceFromScaled(v)) }},
		}
		for _, f := range figures {
			want, err := json.Marshal(f.v)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.appendJSON(nil); !bytes.Equal(got, want) {
				t.Errorf("%T of %d units is appended as %s, json.Marshal writes %s", f.v, v, got, want)
			}
		}
	}
}

// TestEncodeDocsAsMarshal: the three encoders write, for a settlement
// with layers and an account balance, the documents json.Marshal writes
// for the stored structs they read back as.
func TestEncodeDocsAsMarshal(t *testing.T) {
	c, r, a := benchDocs()
	remarshal := func(what string, doc []byte, v any) {
		t.Helper()
		if err := json.Unmarshal(doc, v); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(doc, want) {
			t.Errorf("%s is written as\n%s\njson.Marshal writes\n%s", what, doc, want)
		}
	}
	doc, err := encodeClaim(c)
	if err != nil {
		t.Fatal(err)
	}
	remarshal("a claim", doc, new(storedClaim))
	if doc, err = encodeResult(r); err != nil {
		t.Fatal(err)
	}
	remarshal("a result", doc, new(storedResult))
	if doc, err = encodeAccumulators(a); err != nil {
		t.Fatal(err)
	}
	remarshal("accumulators", doc, new(storedAccumulators))
}

// docGen makes random stored values for TestAppendDocsMatchMarshal.
type docGen struct{ r *rand.Rand }

// docRunes are the characters random strings are made of, besides random
// ones: those json escapes, those it must not, and non-ASCII text.
var docRunes = []rune{'a', 'Z', '0', ' ', '~', '/', '\'', '"', '\\', '<', '>', '&', '\b', '\f', '\n', '\r', '\t',
	0, 0x01, 0x1f, 0x7f, 0x80, 0xe9, '\u2027', '\u2028', '\u2029', '\u202a', '\ufffd', '\ufeff', '青', '霉', '素', '😀'}

// docBytes are invalid UTF-8: stray continuation bytes, truncated
// sequences, overlong forms, surrogates and bytes no UTF-8 has.
var docBytes = []string{"\x80", "\xbf", "\xc0", "\xc1\xbf", "\xe2\x80", "\xe2\x80\x28", "\xed\xa0\x80", "\xf0\x9f\x98",
	"\xf4\x90\x80\x80", "\xf8", "\xfe", "\xff", "\xe2\x80\xa8\xe2"}

// str is a random string (often empty or plain).
func (g docGen) str() string {
	switch g.r.IntN(8) {
	case 0:
		return ""
	case 1:
		return "P" + strconv.Itoa(g.r.IntN(100000))
	}
	var b []byte
	for range g.r.IntN(24) {
		switch g.r.IntN(10) {
		case 0:
			b = append(b, docBytes[g.r.IntN(len(docBytes))]...)
		case 1:
			b = append(b, byte(g.r.IntN(256)))
		case 2:
			b = utf8.AppendRune(b, rune(g.r.IntN(utf8.MaxRune+1)))
		default:
			b = utf8.AppendRune(b, docRunes[g.r.IntN(len(docRunes))])
		}
	}
	return string(b)
}

// int is a random int: often small, sometimes of any size or an edge.
func (g docGen) int() int {
	switch g.r.IntN(6) {
	case 0:
		return 0
	case 1:
		return g.r.IntN(10)
	case 2:
		return g.r.IntN(2000) - 1000
	case 3:
		return []int{math.MaxInt, math.MinInt, math.MinInt + 1, -1, 10, 100}[g.r.IntN(6)]
	default:
		return int(g.r.Uint64())
	}
}

// units is a random count of a figure's units: zero, small, round,
// negative, of any size, or an edge of int64.
func (g docGen) units() int64 {
	var v int64
	switch g.r.IntN(8) {
	case 0:
		return 0
	case 1:
		v = g.r.Int64N(100)
	case 2:
		v = g.r.Int64N(1_000_000_00)
	case 3:
		v = g.r.Int64N(1000) * pow10i(g.r.IntN(16))
	case 4:
		return []int64{math.MaxInt64, math.MinInt64, math.MinInt64 + 1, math.MaxInt64 - 1}[g.r.IntN(4)]
	case 5:
		v = g.r.Int64N(1_000_000_000_000_00) // up to MaxMoney in fen
	default:
		v = int64(g.r.Uint64() >> g.r.IntN(64))
	}
	if g.r.IntN(3) == 0 {
		v = -v
	}
	return v
}

// pow10i is 10^n.
func pow10i(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// money is a random amount.
func (g docGen) money() engine.Money { return engine.MoneyFromFen(g.units()) }

// ratio is a random ratio.
func (g docGen) ratio() engine.Ratio { return engine.RatioFromScaled(g.units()) }

// quantity is a random quantity.
func (g docGen) quantity() engine.Quantity { return engine.QuantityFromScaled(g.units()) }

// price is a random price.
func (g docGen) price() engine.Price { return engine.PriceFromScaled(g.units()) }

// moneyPtr is nil or a random amount (zero among them).
func (g docGen) moneyPtr() *engine.Money {
	if g.r.IntN(3) == 0 {
		return nil
	}
	m := g.money()
	return &m
}

// count is the length of a random slice or map: -1 for nil, often 0.
func (g docGen) count(max int) int {
	switch g.r.IntN(5) {
	case 0:
		return -1
	case 1:
		return 0
	}
	return 1 + g.r.IntN(max)
}

// slice is nil (n < 0) or n values of elem.
func slice[T any](n int, elem func() T) []T {
	if n < 0 {
		return nil
	}
	s := make([]T, n)
	for i := range s {
		s[i] = elem()
	}
	return s
}

// version is a document's "v": often 0 (left out), else any int.
func (g docGen) version() int {
	if g.r.IntN(2) == 0 {
		return 0
	}
	return g.int()
}

// claim is a random stored claim.
func (g docGen) claim() *storedClaim {
	return &storedClaim{V: g.version(), RequestID: g.str(), InstitutionID: g.str(), PersonID: g.str(), VisitType: g.int(),
		SettleDate: storedDate{g.int(), g.int(), g.int()}, CrossRegion: g.int(), DRGCode: g.str(),
		UsePersonalAccount: g.r.IntN(2) == 0,
		Items: slice(g.count(8), func() storedLineItem {
			return storedLineItem{Code: g.str(), Name: g.str(), Quantity: g.quantity(), UnitPrice: g.price(), Amount: g.money()}
		})}
}

// result is a random stored result: a random delta, a budget or none,
// layers or none.
func (g docGen) result() *storedResult {
	d := &storedResult{V: g.version(), PolicyVersion: g.str(), PolicyRegion: g.str(), PolicyScheme: g.int(), CrossRegion: g.int(),
		Breakdown: storedBreakdown{g.money(), g.money(), g.money(), g.money(), g.money(), g.money(), g.money(),
			g.money(), g.money(), g.money(), g.money(), g.money(), g.money(), g.money()},
		Details: slice(g.count(8), func() storedDetail {
			return storedDetail{Fund: g.int(), Band: g.int(), Ratio: g.ratio(), Base: g.money(), Amount: g.money()}
		}),
		Delta:       *g.accumulators(),
		BudgetLimit: g.moneyPtr(), WarnRatio: g.ratio(), AccountBalance: g.moneyPtr(),
		Layers: slice(g.count(4), func() storedLayer {
			return storedLayer{Fund: g.int(), From: g.money(), Base: g.money(), Threshold: g.money(),
				Bands: slice(g.count(4), func() storedBand { return storedBand{UpTo: g.moneyPtr(), Ratio: g.ratio()} }),
				Cap:   g.moneyPtr(), Room: g.money(), Raw: g.money(), Paid: g.money(), Ceiling: g.moneyPtr(), CeilingPaid: g.money()}
		})}
	if g.r.IntN(2) == 0 {
		d.Budget = &storedBudgetStatus{Year: g.int(), Limit: g.money(), Used: g.money(), State: g.int()}
	}
	return d
}

// accumulators are random stored accumulators: maps nil, empty or
// filled with random keys.
func (g docGen) accumulators() *storedAccumulators {
	d := &storedAccumulators{V: g.version(), PersonID: g.str(), Year: g.int(), InpatientCount: g.int(),
		CatastrophicBase: g.money(), CatastrophicPaid: g.money(), AidBase: g.money(), AidPaid: g.money(), AidOutOfPocket: g.money()}
	if n := g.count(12); n >= 0 { // more than 8 at times: past the keys sorted on the stack
		d.VisitTypes = make(map[int]storedVisit, n)
		for range n {
			d.VisitTypes[g.int()] = storedVisit{InScope: g.money(), DeductiblePaid: g.money()}
		}
	}
	if n := g.count(12); n >= 0 {
		d.PoolUsed = make(map[string]engine.Money, n)
		for range n {
			d.PoolUsed[g.str()] = g.money()
		}
	}
	return d
}
