package engine_test

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/medsettle/medsettle/engine"
)

// plainDecimal is the grammar every Parse* function documents: digits (no
// sign), and an optional dot followed by digits.
var plainDecimal = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?$`)

// parser is one of the engine's parsers of API figures, seen as an exact
// value and its text.
type parser struct {
	name   string
	places int      // the most decimals it takes
	max    *big.Rat // the largest value it takes
	parse  func(string) (*big.Rat, string, error)
}

func parsers() []parser {
	maxMoney, _ := new(big.Rat).SetString(engine.MaxMoney)
	big64 := func(scale int64) *big.Rat { // the int64 range at a scale
		return new(big.Rat).SetFrac(big.NewInt(math.MaxInt64), new(big.Int).Exp(big.NewInt(10), big.NewInt(scale), nil))
	}
	return []parser{
		{"ParseMoney", 2, maxMoney, func(s string) (*big.Rat, string, error) {
			m, err := engine.ParseMoney(s)
			if err == nil && (strings.Count(m.String(), ".") != 1 || len(m.String())-strings.Index(m.String(), ".") != 3) {
				return nil, "", fmt.Errorf("FormatMoney(%s) = %q, want exactly two decimals", s, m.String())
			}
			t, _ := m.MarshalText()
			return m.Rat(), string(t), err
		}},
		{"ParseRatio", 4, big.NewRat(1, 1), func(s string) (*big.Rat, string, error) {
			r, err := engine.ParseRatio(s)
			return r.Rat(), r.String(), err
		}},
		{"ParseFactor", 4, maxMoney, func(s string) (*big.Rat, string, error) {
			r, err := engine.ParseFactor(s)
			return r.Rat(), r.String(), err
		}},
		{"ParseQuantity", 4, big64(4), func(s string) (*big.Rat, string, error) {
			q, err := engine.ParseQuantity(s)
			return q.Rat(), q.String(), err
		}},
		{"ParsePrice", 6, maxMoney, func(s string) (*big.Rat, string, error) {
			p, err := engine.ParsePrice(s)
			return p.Rat(), p.String(), err
		}},
		{"ParsePoints", 4, big64(4), func(s string) (*big.Rat, string, error) {
			p, err := engine.ParsePoints(s)
			return p.Rat(), p.String(), err
		}},
	}
}

// FuzzParseDecimal checks every parser of API figures (ParseMoney,
// ParseRatio, ParseFactor, ParseQuantity, ParsePrice, ParsePoints)
// against the grammar and limits they document, and their text against
// shopspring/decimal's: the value is exactly what the string says, and
// its shortest text is shopspring's String().
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{
		// good
		"0", "12", "-3.5", "0.0001", "1234.50", "700.00", "1", "0.87", "-0", "-0.00", "007", "1000000000000",
		"1000000000000.01", "999999999999999999999999", "0.9999", "1.0000", "0.000001", "922337203685477.5807",
		"922337203685477.5808", "12.3456785",
		// bad
		"", "-", ".", "1.", ".5", "+1", " 1", "1 ", "1e3", "1E3", "1.5e-2", "0x10", "1,000", "1_000", "--1",
		"1.00000", "NaN", "Inf", "-Inf", "١٢", "１２", "1.2.3", "12345678901234567890123456", "-.5", "0.-5", "\x00",
	} {
		f.Add(s)
	}
	all := parsers()
	f.Fuzz(func(t *testing.T, s string) {
		m := plainDecimal.FindStringSubmatch(s)
		var exact *big.Rat
		if m != nil {
			exact, _ = new(big.Rat).SetString(s)
		}
		for _, p := range all {
			got, text, err := p.parse(s)
			wantOK := m != nil && len(s) <= engine.MaxDecimalLen && len(m[2]) <= p.places && exact.Cmp(p.max) <= 0
			if (err == nil) != wantOK {
				t.Fatalf("%s(%q) = %v, %v; the grammar and limits say ok=%v", p.name, s, text, err, wantOK)
			}
			if strings.ContainsAny(s, "eE+ \t\n") && err == nil {
				t.Fatalf("%s(%q) accepted an exponent, a plus sign or a space", p.name, s)
			}
			if err != nil {
				continue
			}
			if got.Cmp(exact) != 0 {
				t.Fatalf("%s(%q) = %s, want %s", p.name, s, got.RatString(), exact.RatString())
			}
			if want := decimal.RequireFromString(s).String(); text != want {
				t.Fatalf("%s(%q) renders %q, shopspring/decimal %q", p.name, s, text, want)
			}
			back, text2, err := p.parse(text)
			if err != nil || back.Cmp(got) != 0 || text2 != text {
				t.Fatalf("%s(%q) = %s, but %s(%q) = %s, %v", p.name, s, text, p.name, text, text2, err)
			}
		}
	})
}

// fuzzPolicy is a fixed small policy covering every visit type and level,
// with a price cap, a cap pool, catastrophic insurance and aid.
func fuzzPolicy() *engine.Policy {
	d := engine.MustMoney
	rt := engine.MustRatio
	up := func(s string) *engine.Money { v := d(s); return &v }
	sched := engine.Schedule{Bands: []engine.Band{{UpTo: up("1000.00"), Ratio: rt("0.5")}, {UpTo: up("50000.00"), Ratio: rt("0.85")}, {Ratio: rt("0.9")}}}
	var rates []engine.RateRow
	var deds []engine.DeductibleRow
	for level := 1; level <= 3; level++ {
		rates = append(rates, engine.RateRow{Level: level, Schedule: sched},
			engine.RateRow{Level: level, Employment: engine.EmploymentRetired, Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: rt("0.95")}}}})
		deds = append(deds, engine.DeductibleRow{Level: level, Amounts: []engine.Money{d("700"), d("500"), d("0")}})
	}
	p := &engine.Policy{
		Region: "R1", Scheme: engine.SchemeEmployee, Version: "fuzz",
		EffectiveFrom: engine.Date{Year: 2020, Month: time.January, Day: 1},
		EffectiveTo:   engine.Date{Year: 2030, Month: time.December, Day: 31},
		Catalog: []engine.CatalogEntry{
			{Code: "A1", Category: engine.ItemA},
			{Code: "B1", Category: engine.ItemB, SelfPayRatio: rt("0.2"), PriceCap: dptr(engine.MustPrice("50.5"))},
			{Code: "C1", Category: engine.ItemC},
		},
		Benefits: []engine.Benefit{
			{VisitType: engine.VisitInpatient, Accumulation: engine.AccumulationPerVisit, Deductibles: deds, Rates: rates, CapPool: "main"},
			{VisitType: engine.VisitChronicOutpatient, Accumulation: engine.AccumulationAnnual, Deductibles: deds, Rates: rates, CapPool: "main"},
			{VisitType: engine.VisitOutpatient, Accumulation: engine.AccumulationAnnual, Rates: rates},
		},
		CapPools:             []engine.CapPool{{Name: "main", Rows: []engine.CapPoolRow{{MinYears: 0, Amount: d("300000")}}}},
		UnregisteredRatioCut: rt("0.1"),
		Catastrophic: &engine.Catastrophic{VisitTypes: []engine.VisitType{engine.VisitInpatient, engine.VisitChronicOutpatient}, IncludePreSelfPay: true,
			Normal: engine.Schedule{Bands: []engine.Band{{UpTo: up("10000"), Ratio: rt("0")}, {Ratio: rt("0.6")}}, AnnualCap: up("300000")}},
		MedicalAid: []engine.AidRule{{Category: engine.CategoryDestitute,
			Schedule:   engine.Schedule{Bands: []engine.Band{{UpTo: up("100"), Ratio: rt("0")}, {Ratio: rt("0.7")}}, AnnualCap: up("20000")},
			OOPCeiling: up("5000")}},
	}
	if err := engine.ValidatePolicy(p); err != nil {
		panic(err)
	}
	return p.Index()
}

// FuzzSettleClaim settles claims whose numbers come from the fuzzer: Settle
// must return a result that passes CheckResult (and agrees with the
// reference model) exactly when the claim is well formed, and an error
// wrapping ErrInvalid otherwise. It must never panic.
func FuzzSettleClaim(f *testing.F) {
	f.Add("1", "100", "", uint8(1))
	f.Add("2", "49.995", "99.99", uint8(3))
	f.Add("0.3333", "3.3333", "1.11", uint8(7))
	f.Add("1", "100", "100.01", uint8(2))
	f.Add("-1", "100", "-100.00", uint8(1))
	f.Add("0", "5", "0", uint8(1))
	f.Add("1", "-5", "", uint8(1))
	f.Add("1000000", "1000000000000", "", uint8(2))
	f.Add("1000000.0001", "1", "", uint8(1))
	f.Add("1", "1", "", uint8(0))
	f.Add("12.5", "80000", "", uint8(40))
	policy := fuzzPolicy()
	person := engine.Person{ID: "P1", Region: "R1", Scheme: engine.SchemeEmployee, Employment: engine.EmploymentEmployed,
		Category: engine.CategoryDestitute, ContributionYears: 12, AccountBalance: engine.MustMoney("1500.00")}
	inst := engine.Institution{ID: "H1", Region: "R1", Level: 2, Budgets: []engine.Budget{{Year: 2024, Amount: engine.MustMoney("1000000")}}}
	filing := engine.Filing{ID: "F1", PersonID: "P1", Region: "R2",
		ValidFrom: engine.Date{Year: 2024, Month: time.January, Day: 1}, ValidTo: engine.Date{Year: 2024, Month: time.June, Day: 30}}
	codes := []string{"A1", "B1", "C1", "NOT-IN-CATALOG"}
	maxQ, maxP := decimal.NewFromInt(1_000_000), decimal.RequireFromString(engine.MaxMoney)
	maxFen := decimal.NewFromInt(math.MaxInt64).Shift(-2)

	f.Fuzz(func(t *testing.T, qs, ps, as string, n uint8) {
		// UnmarshalText (the stored form) allows signs, which the API
		// does not; the numbers are checked by the oracle, shopspring/decimal.
		var q engine.Quantity
		var p engine.Price
		var a engine.Money
		if q.UnmarshalText([]byte(qs)) != nil || p.UnmarshalText([]byte(ps)) != nil {
			return
		}
		if as != "" {
			if a.UnmarshalText([]byte(as)) != nil {
				return
			}
		} else {
			prod := decQ(q).Mul(decP(p)).Round(2)
			if prod.Abs().GreaterThan(maxFen) {
				return
			}
			a = moneyOf(prod)
		}
		count := int(n) % 41
		if n == 255 {
			count = engine.MaxItems + 1
		}
		c := engine.Claim{RequestID: "R1", InstitutionID: "H1", PersonID: "P1", VisitType: engine.VisitTypes[int(n)%3],
			SettleDate: engine.Date{Year: 2024, Month: time.March, Day: 1}, UsePersonalAccount: n%2 == 0}
		for i := 0; i < count; i++ {
			c.Items = append(c.Items, engine.LineItem{Code: codes[i%len(codes)], Quantity: q, UnitPrice: p, Amount: a})
		}
		acc := engine.NewAccumulators("P1", 2024)
		acc.InpatientCount = int(n) % 4
		in := engine.Input{Policy: policy, Person: person, Institution: inst, Claim: c, Accumulators: acc}
		// Local, registered or unregistered care, declared or left to the
		// records.
		if n%3 > 0 {
			in.Institution.Region = "R2"
		}
		if n%3 == 1 {
			in.Filings = []engine.Filing{filing}
		}
		if n%5 < 2 {
			in.Claim.CrossRegion = modelCross(in)
		}

		res, err := engine.Settle(in)
		qd, pd, ad := decQ(q), decP(p), decM(a)
		valid := count >= 1 && count <= engine.MaxItems && qd.IsPositive() && !qd.GreaterThan(maxQ) &&
			!pd.IsNegative() && !pd.GreaterThan(maxP) && !ad.IsNegative() && ad.Equal(qd.Mul(pd).Round(2)) &&
			!ad.Mul(decimal.NewFromInt(int64(count))).GreaterThan(maxP)
		switch {
		case err == nil && !valid:
			t.Fatalf("Settle accepted a malformed claim (count %d, quantity %s, unit_price %s, amount %s)", count, q, p, a)
		case err != nil && valid:
			t.Fatalf("Settle refused a well-formed claim (count %d, quantity %s, unit_price %s, amount %s): %v", count, q, p, a, err)
		case err != nil:
			var ve *engine.ValidationError
			if !errors.Is(err, engine.ErrInvalid) || !errors.As(err, &ve) || len(ve.Violations) == 0 {
				t.Fatalf("Settle error %v does not wrap ErrInvalid with violations", err)
			}
			return
		}
		if err := engine.CheckResult(res); err != nil {
			t.Fatalf("CheckResult: %v", err)
		}
		if res.CrossRegion != modelCross(in) {
			t.Fatalf("cross_region decided %v, the records say %v", res.CrossRegion, modelCross(in))
		}
		m := model(in)
		for i, fig := range figures(res.Breakdown) {
			if w := figures(m.b)[i]; !fig.v.Equal(w.v) {
				t.Fatalf("%s = %s, the reference model says %s", fig.name, fig.v, w.v)
			}
		}
		if !res.Delta.Equal(m.delta) {
			t.Fatalf("delta %+v, the reference model says %+v", res.Delta, m.delta)
		}
	})
}
