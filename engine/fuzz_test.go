package engine_test

import (
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/medsettle/medsettle/engine"
)

// plainDecimal is the grammar ParseDecimal documents: digits (no sign), and an optional dot followed by digits.
var plainDecimal = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?$`)

// FuzzParseDecimal checks ParseDecimal, ParseMoney and ParseRatio against
// the grammar and limits they document.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{
		// good
		"0", "12", "-3.5", "0.0001", "1234.50", "700.00", "1", "0.87", "-0", "-0.00", "007", "1000000000000",
		"1000000000000.01", "999999999999999999999999", "0.9999", "1.0000",
		// bad
		"", "-", ".", "1.", ".5", "+1", " 1", "1 ", "1e3", "1E3", "1.5e-2", "0x10", "1,000", "1_000", "--1",
		"1.00000", "NaN", "Inf", "-Inf", "١٢", "１２", "1.2.3", "12345678901234567890123456", "-.5", "0.-5", "\x00",
	} {
		for _, places := range []uint8{0, 2, 4} {
			f.Add(s, places)
		}
	}
	f.Fuzz(func(t *testing.T, s string, placesByte uint8) {
		places := int(placesByte % 9)
		d, err := engine.ParseDecimal(s, places)

		m := plainDecimal.FindStringSubmatch(s)
		wantOK := m != nil && len(s) <= engine.MaxDecimalLen && len(m[2]) <= places
		if (err == nil) != wantOK {
			t.Fatalf("ParseDecimal(%q, %d) = %v, %v; the grammar says ok=%v", s, places, d, err, wantOK)
		}
		if strings.ContainsAny(s, "eE+ \t\n") && err == nil {
			t.Fatalf("ParseDecimal(%q, %d) accepted an exponent, a plus sign or a space", s, places)
		}
		if err == nil {
			// The value is exactly what the string says.
			want, ok := new(big.Rat).SetString(s)
			if !ok || d.Rat().Cmp(want) != 0 {
				t.Fatalf("ParseDecimal(%q) = %s, want %s", s, d, want.RatString())
			}
			if -d.Exponent() > int32(places) {
				t.Fatalf("ParseDecimal(%q, %d) = %s carries %d decimals", s, places, d, -d.Exponent())
			}
			// It round-trips through its own rendering.
			back, err := engine.ParseDecimal(d.String(), places)
			if err != nil || !back.Equal(d) {
				t.Fatalf("ParseDecimal(%q) = %s, but ParseDecimal(%q) = %s, %v", s, d, d.String(), back, err)
			}
		}

		if mo, err := engine.ParseMoney(s); err == nil {
			if mo.IsNegative() || !mo.Equal(mo.Round(2)) || -mo.Exponent() > 2 {
				t.Fatalf("ParseMoney(%q) = %s: negative or finer than a fen", s, mo)
			}
			if mo.GreaterThan(decimal.RequireFromString(engine.MaxMoney)) {
				t.Fatalf("ParseMoney(%q) = %s is above MaxMoney", s, mo)
			}
			if m == nil || len(m[2]) > 2 {
				t.Fatalf("ParseMoney(%q) accepted a string that is not money", s)
			}
			if got := engine.FormatMoney(mo); strings.Count(got, ".") != 1 || len(got)-strings.Index(got, ".") != 3 {
				t.Fatalf("FormatMoney(%s) = %q, want exactly two decimals", mo, got)
			}
		}

		if r, err := engine.ParseRatio(s); err == nil {
			if r.IsNegative() || r.GreaterThan(decimal.NewFromInt(1)) || -r.Exponent() > 4 {
				t.Fatalf("ParseRatio(%q) = %s: outside [0, 1] or more than four decimals", s, r)
			}
		}
	})
}

// fuzzPolicy is a fixed small policy covering every visit type and level,
// with a price cap, a cap pool, catastrophic insurance and aid.
func fuzzPolicy() *engine.Policy {
	d := decimal.RequireFromString
	up := func(s string) *decimal.Decimal { v := d(s); return &v }
	sched := engine.Schedule{Bands: []engine.Band{{UpTo: up("1000.00"), Ratio: d("0.5")}, {UpTo: up("50000.00"), Ratio: d("0.85")}, {Ratio: d("0.9")}}}
	var rates []engine.RateRow
	var deds []engine.DeductibleRow
	for level := 1; level <= 3; level++ {
		rates = append(rates, engine.RateRow{Level: level, Schedule: sched},
			engine.RateRow{Level: level, Employment: engine.EmploymentRetired, Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: d("0.95")}}}})
		deds = append(deds, engine.DeductibleRow{Level: level, Amounts: []decimal.Decimal{d("700"), d("500"), d("0")}})
	}
	p := &engine.Policy{
		Region: "R1", Scheme: engine.SchemeEmployee, Version: "fuzz",
		EffectiveFrom: engine.Date{Year: 2020, Month: time.January, Day: 1},
		EffectiveTo:   engine.Date{Year: 2030, Month: time.December, Day: 31},
		Catalog: []engine.CatalogEntry{
			{Code: "A1", Category: engine.ItemA},
			{Code: "B1", Category: engine.ItemB, SelfPayRatio: d("0.2"), PriceCap: up("50.5")},
			{Code: "C1", Category: engine.ItemC},
		},
		Benefits: []engine.Benefit{
			{VisitType: engine.VisitInpatient, Accumulation: engine.AccumulationPerVisit, Deductibles: deds, Rates: rates, CapPool: "main"},
			{VisitType: engine.VisitChronicOutpatient, Accumulation: engine.AccumulationAnnual, Deductibles: deds, Rates: rates, CapPool: "main"},
			{VisitType: engine.VisitOutpatient, Accumulation: engine.AccumulationAnnual, Rates: rates},
		},
		CapPools:             []engine.CapPool{{Name: "main", Rows: []engine.CapPoolRow{{MinYears: 0, Amount: d("300000")}}}},
		UnregisteredRatioCut: d("0.1"),
		Catastrophic: &engine.Catastrophic{VisitTypes: []engine.VisitType{engine.VisitInpatient, engine.VisitChronicOutpatient}, IncludePreSelfPay: true,
			Normal: engine.Schedule{Bands: []engine.Band{{UpTo: up("10000"), Ratio: d("0")}, {Ratio: d("0.6")}}, AnnualCap: up("300000")}},
		MedicalAid: []engine.AidRule{{Category: engine.CategoryDestitute,
			Schedule:   engine.Schedule{Bands: []engine.Band{{UpTo: up("100"), Ratio: d("0")}, {Ratio: d("0.7")}}, AnnualCap: up("20000")},
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
		Category: engine.CategoryDestitute, ContributionYears: 12, AccountBalance: decimal.RequireFromString("1500.00")}
	inst := engine.Institution{ID: "H1", Region: "R1", Level: 2, Budgets: []engine.Budget{{Year: 2024, Amount: decimal.RequireFromString("1000000")}}}
	filing := engine.Filing{ID: "F1", PersonID: "P1", Region: "R2",
		ValidFrom: engine.Date{Year: 2024, Month: time.January, Day: 1}, ValidTo: engine.Date{Year: 2024, Month: time.June, Day: 30}}
	codes := []string{"A1", "B1", "C1", "NOT-IN-CATALOG"}
	maxQ, maxP := decimal.NewFromInt(1_000_000), decimal.RequireFromString(engine.MaxMoney)

	f.Fuzz(func(t *testing.T, qs, ps, as string, n uint8) {
		// ParseDecimal keeps the numbers small enough to multiply; it
		// allows signs and more decimals than the API does.
		q, err := engine.ParseDecimal(qs, 8)
		if err != nil {
			return
		}
		p, err := engine.ParseDecimal(ps, 8)
		if err != nil {
			return
		}
		a := q.Mul(p).Round(2)
		if as != "" {
			if a, err = engine.ParseDecimal(as, 4); err != nil {
				return
			}
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
		valid := count >= 1 && count <= engine.MaxItems && q.IsPositive() && !q.GreaterThan(maxQ) &&
			!p.IsNegative() && !p.GreaterThan(maxP) && !a.IsNegative() && a.Equal(q.Mul(p).Round(2)) &&
			!a.Mul(decimal.NewFromInt(int64(count))).GreaterThan(maxP)
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
