package api

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// fuzzDecimal is the plain decimal grammar of engine.ParseDecimal, written
// here independently.
var fuzzDecimal = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?$`)

// plain parses s the way the API documents numbers: a plain decimal of at
// most engine.MaxDecimalLen characters and at most places decimals.
func plain(s string, places int) (decimal.Decimal, bool) {
	m := fuzzDecimal.FindStringSubmatch(s)
	if m == nil || len(s) > engine.MaxDecimalLen || len(m[2]) > places {
		return decimal.Zero, false
	}
	return decimal.RequireFromString(s), true
}

var fuzzMaxMoney = decimal.RequireFromString(engine.MaxMoney)

// oracle is an engine figure as a shopspring decimal, to compare with the
// independent reading of the test.
func oracle(v fmt.Stringer) decimal.Decimal { return decimal.RequireFromString(v.String()) }

func goodMoney(s string) (decimal.Decimal, bool) {
	d, ok := plain(s, 2)
	return d, ok && !d.IsNegative() && !d.GreaterThan(fuzzMaxMoney)
}

func goodRatio(s string) bool {
	d, ok := plain(s, 4)
	return ok && !d.IsNegative() && !d.GreaterThan(decimal.NewFromInt(1))
}

// goodID: present, UTF-8, at most MaxIDLen characters (not bytes), and no
// control characters.
func goodID(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > engine.MaxIDLen {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func goodDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil && t.Year() >= 1900
}

// violations asserts that err is a *engine.ValidationError whose violations
// all have a field path under prefix and readable (UTF-8) texts, and
// returns the set of fields it names.
func violations(t *testing.T, err error, prefix string) map[string]bool {
	t.Helper()
	ve, ok := err.(*engine.ValidationError)
	if !ok {
		t.Fatalf("error %T %v is not a *engine.ValidationError", err, err)
	}
	if !errors.Is(err, engine.ErrInvalid) {
		t.Fatalf("error %v does not wrap engine.ErrInvalid", err)
	}
	if len(ve.Violations) == 0 {
		t.Fatalf("ValidationError without violations")
	}
	fields := map[string]bool{}
	for _, v := range ve.Violations {
		if v.Field == "" || !strings.HasPrefix(v.Field, prefix) {
			t.Fatalf("violation %+v has no field path under %q", v, prefix)
		}
		if v.Description == "" {
			t.Fatalf("violation %+v has no description", v)
		}
		// Field violations go into gRPC status details, which are proto
		// strings and must be valid UTF-8.
		if !utf8.ValidString(v.Field) || !utf8.ValidString(v.Description) {
			t.Fatalf("violation %q: %q is not valid UTF-8", v.Field, v.Description)
		}
		fields[v.Field] = true
	}
	return fields
}

// FuzzClaimFromProto maps fuzzed SettleRequests: claimFromProto must not
// panic, must name exactly the fields that are wrong, and must return a
// claim that passes engine.ValidateClaim and carries the request's values.
func FuzzClaimFromProto(f *testing.F) {
	f.Add("REQ-1", "H1", "P1", "2024-03-01", int32(1), "2", "49.995", "99.99")
	f.Add("REQ-1", "H1", "P1", "2024-02-30", int32(2), "1", "10", "10.00")
	f.Add("REQ-1", "H1", "P1", "0000-01-01", int32(1), "1", "10", "10.00")
	f.Add("REQ-1", "H1", "P1", "1900-01-01", int32(1), "1", "10", "10.00")
	f.Add("", "", "", "", int32(0), "", "", "")
	f.Add(strings.Repeat("x", 65), "H1", "P1", "2024-03-01", int32(3), "0", "10", "0")
	f.Add(strings.Repeat("住", 64), "H1", strings.Repeat("院", 65), "2024-03-01", int32(1), "1", "10", "10.00")
	f.Add("REQ\x001", "H\t1", "P\u00851", "2024-03-01", int32(1), "1", "10", "10.00")
	f.Add("REQ-1", "H1", "P1", "2024-3-1", int32(4), "-1", "-10", "10.00")
	f.Add("REQ-1", "H1", "P1", "2024-03-01", int32(-1), "1e3", "+10", " 10")
	f.Add("REQ-1", "H1", "P1", "2024-03-01", int32(1), "1.00001", "10.0000001", "10.001")
	// Six decimals are the most a unit price takes.
	f.Add("REQ-1", "H1", "P1", "2024-03-01", int32(1), "3", "0.333333", "1.00")
	f.Add("REQ-1", "H1", "P1", "2024-03-01", int32(1), "3", "0.3333333", "1.00")
	f.Add("REQ-1", "H1", "P1", "2024-03-01", int32(1), "1000001", "1", "1000001.00")
	f.Add("REQ-1", "H1", "P1", "2024-03-01", int32(1), "1", "1000000000001", "1000000000001.00")
	f.Add("REQ-\xff", "H1", "P\xfe", "2024-03-01\xff", int32(1), "1\xff", "1", "1.00")
	f.Add("REQ-1", "H1", "P1", "2024-03-01", int32(1), "0.0001", "0.0049", "0.00")
	f.Add("REQ-1", "H1", "P1", "2024-03-01", int32(1), "3", "0.005", "0.02")
	f.Add("REQ-1", "H1", "P1", "2024-03-01", int32(1), "1", "100", "100.01")
	// Each line within 10^12, the claim's total 2.50 above it.
	f.Add("REQ-1", "H1", "P1", "2024-03-01", int32(1), "1", "1000000000000", "1000000000000.00")
	f.Fuzz(func(t *testing.T, requestID, institutionID, personID, settleDate string, visitType int32, quantity, unitPrice, amount string) {
		req := &pb.SettleRequest{
			RequestId: requestID, InstitutionId: institutionID, PersonId: personID,
			VisitType: pb.VisitType(visitType), SettleDate: settleDate,
			Items: []*pb.LineItem{
				{Code: "A1", Name: "fuzzed", Quantity: quantity, UnitPrice: unitPrice, Amount: amount},
				{Code: "B1", Name: "fixed", Quantity: "1", UnitPrice: "2.5", Amount: "2.50"},
			},
		}
		c, err := claimFromProto(req)

		// What is wrong, by the rules of the API, judged independently.
		want := map[string]bool{}
		for field, ok := range map[string]bool{
			"request_id": goodID(requestID), "institution_id": goodID(institutionID), "person_id": goodID(personID),
			"visit_type": visitType >= 1 && visitType <= 3,
		} {
			if !ok {
				want[field] = true
			}
		}
		if _, ok := goodDate(settleDate); !ok {
			want["settle_date"] = true
		}
		q, qok := plain(quantity, engine.MaxQuantityPlaces)
		p, pok := plain(unitPrice, engine.MaxPricePlaces)
		a, aok := goodMoney(amount)
		// Each number's own range is always checked; the arithmetic only
		// when all three are readable and in range.
		qok = qok && q.IsPositive() && !q.GreaterThan(decimal.NewFromInt(1_000_000))
		pok = pok && !p.IsNegative() && !p.GreaterThan(fuzzMaxMoney)
		unparsed := !qok || !pok || !aok
		if !qok {
			want["items[0].quantity"] = true
		}
		if !pok {
			want["items[0].unit_price"] = true
		}
		if !aok || (!unparsed && !a.Equal(q.Mul(p).Round(2))) {
			want["items[0].amount"] = true
		}
		// The total (with the fixed line's 2.50) is bounded like a line;
		// an item whose numbers did not read counts as 1.
		if !unparsed && a.Add(decimal.RequireFromString("2.50")).GreaterThan(fuzzMaxMoney) {
			want["items"] = true
		}

		if err != nil {
			sameFields(t, want, violations(t, err, ""), err)
			return
		}
		if len(want) > 0 {
			t.Fatalf("claimFromProto accepted a request with bad fields %v", want)
		}
		if err := engine.ValidateClaim(c); err != nil {
			t.Fatalf("claimFromProto returned a claim that ValidateClaim rejects: %v", err)
		}
		d, _ := goodDate(settleDate)
		switch {
		case c.RequestID != requestID || c.InstitutionID != institutionID || c.PersonID != personID:
			t.Fatalf("ids not carried over: %+v", c)
		case int32(c.VisitType) != visitType:
			t.Fatalf("visit type %v, want %d", c.VisitType, visitType)
		case c.SettleDate != (engine.Date{Year: d.Year(), Month: d.Month(), Day: d.Day()}):
			t.Fatalf("settle date %s, want %s", c.SettleDate, settleDate)
		case len(c.Items) != 2 || !oracle(c.Items[0].Quantity).Equal(q) || !oracle(c.Items[0].UnitPrice).Equal(p) || !oracle(c.Items[0].Amount).Equal(a):
			t.Fatalf("items not carried over: %+v", c.Items)
		}
	})
}

// fuzzPolicyProto is a small valid policy with some of its strings replaced.
func fuzzPolicyProto(ratio, upTo, amount, from, to, selfPayRatio, priceCap, oopCeiling string) *pb.Policy {
	rates := func(ratio string) *pb.Schedule {
		return &pb.Schedule{Bands: []*pb.Band{{UpTo: upTo, Ratio: ratio}, {UpTo: "10000.00", Ratio: "0.8"}, {Ratio: "0.9"}}}
	}
	return &pb.Policy{
		Region: "R1", Scheme: pb.Scheme_SCHEME_EMPLOYEE, Version: "fuzz", EffectiveFrom: from, EffectiveTo: to,
		Catalog: []*pb.CatalogEntry{
			{Code: "A1", Category: pb.ItemCategory_ITEM_CATEGORY_A},
			{Code: "B1", Category: pb.ItemCategory_ITEM_CATEGORY_B, SelfPayRatio: selfPayRatio, PriceCap: priceCap},
			{Code: "C1", Category: pb.ItemCategory_ITEM_CATEGORY_C},
		},
		Benefits: []*pb.Benefit{{
			VisitType: pb.VisitType_VISIT_TYPE_INPATIENT, Accumulation: pb.Accumulation_ACCUMULATION_PER_VISIT,
			Deductibles: []*pb.DeductibleRow{{Level: 1, Amounts: []string{amount, "300.00"}}},
			Rates:       []*pb.RateRow{{Level: 1, Schedule: rates(ratio)}},
			CapPool:     "main",
		}},
		CapPools: []*pb.CapPool{{Name: "main", Rows: []*pb.CapPoolRow{{MinYears: 0, Amount: "300000.00"}}}},
		Catastrophic: &pb.Catastrophic{
			VisitTypes: []pb.VisitType{pb.VisitType_VISIT_TYPE_INPATIENT}, IncludePreSelfPay: true,
			Normal: &pb.Schedule{Bands: []*pb.Band{{UpTo: "20000.00", Ratio: "0"}, {Ratio: ratio}}, AnnualCap: amount},
		},
		MedicalAid: []*pb.MedicalAid{{
			Category:   pb.PersonCategory_PERSON_CATEGORY_DESTITUTE,
			Schedule:   &pb.Schedule{Bands: []*pb.Band{{Ratio: ratio}}},
			OopCeiling: oopCeiling,
		}},
	}
}

// FuzzPolicyFromProto maps fuzzed policies: policyFromProto must not panic
// and must either return a policy that ValidatePolicy accepts, that loads
// again from its own rendering and that settles a bill without breaking an
// invariant, or a ValidationError naming exactly the bad fields.
func FuzzPolicyFromProto(f *testing.F) {
	f.Add("0.85", "1000.00", "700.00", "2024-01-01", "2024-12-31", "0.1", "", "5000.00")
	f.Add("1", "0.01", "0", "2000-01-01", "2999-12-31", "1", "0", "")
	f.Add("0.12345", "1000.001", "-1", "2024-13-01", "2023-12-31", "", "-1", "-5")
	f.Add("1.0001", "10000.00", "1e3", "2024-02-29", "2024-02-28", "-0.1", "1.23456", "5000.001")
	f.Add("0.5", "10000.00", "0.9", "2024-01-01", "2024-12-31", "0.1", "1.234567", "5000")
	f.Add("0.5", "10000.00", "0.9", "2024-01-01", "2024-12-31", "0.1", "1.2345678", "5000")
	f.Add("", "", "", "", "", "", "", "")
	f.Add("+0.5", " 1", "1,000", "2024/01/01", "24-01-01", "0.5 ", "0x10", "NaN")
	f.Add("0.5", "99999.99", "1000000000000.00", "0001-01-01", "9999-12-31", "0.0001", "1000000000000.0000", "0")
	f.Fuzz(func(t *testing.T, ratio, upTo, amount, from, to, selfPayRatio, priceCap, oopCeiling string) {
		in := fuzzPolicyProto(ratio, upTo, amount, from, to, selfPayRatio, priceCap, oopCeiling)
		pol, err := policyFromProto(in)

		const ben = "policy.benefits[0]"
		want := map[string]bool{}
		bad := func(path string, ok bool) {
			if !ok {
				want[path] = true
			}
		}
		bad(ben+".rates[0].schedule.bands[0].ratio", goodRatio(ratio))
		bad("policy.catastrophic.normal.bands[1].ratio", goodRatio(ratio))
		bad("policy.medical_aid[0].schedule.bands[0].ratio", goodRatio(ratio))
		u, uok := goodMoney(upTo)
		if uok && !u.LessThan(decimal.NewFromInt(10000)) {
			// A bound at or above the next band's makes the next one wrong.
			want[ben+".rates[0].schedule.bands[1].up_to"] = true
		} else {
			bad(ben+".rates[0].schedule.bands[0].up_to", uok && u.IsPositive())
		}
		_, aok := goodMoney(amount)
		bad(ben+".deductibles[0].amounts[0]", aok)
		bad("policy.catastrophic.normal.annual_cap", aok || amount == "")
		fd, fok := goodDate(from)
		td, tok := goodDate(to)
		bad("policy.effective_from", fok)
		bad("policy.effective_to", tok && (!fok || !td.Before(fd)))
		bad("policy.catalog[1].self_pay_ratio", goodRatio(selfPayRatio))
		if priceCap != "" {
			c, ok := plain(priceCap, engine.MaxPricePlaces)
			bad("policy.catalog[1].price_cap", ok && !c.IsNegative() && !c.GreaterThan(fuzzMaxMoney))
		}
		if oopCeiling != "" {
			_, ok := goodMoney(oopCeiling)
			bad("policy.medical_aid[0].oop_ceiling", ok)
		}

		if err != nil {
			sameFields(t, want, violations(t, err, "policy"), err)
			return
		}
		if len(want) > 0 {
			t.Fatalf("policyFromProto accepted a policy with bad fields %v", want)
		}
		if err := engine.ValidatePolicy(pol); err != nil {
			t.Fatalf("policyFromProto returned a policy that ValidatePolicy rejects: %v", err)
		}
		again, err := policyFromProto(policyToProto(pol))
		if err != nil {
			t.Fatalf("a loaded policy does not load again from its own rendering: %v", err)
		}

		// Settle one bill with both; the results agree and pass CheckResult.
		claim := engine.Claim{RequestID: "R1", InstitutionID: "H1", PersonID: "P1", VisitType: engine.VisitInpatient,
			SettleDate: pol.EffectiveFrom, UsePersonalAccount: true}
		for _, it := range []struct{ code, q, p string }{{"A1", "3", "1234.5678"}, {"B1", "2", "88.8888"}, {"C1", "1", "10"}, {"B1", "0.5", "99999"}} {
			q, p := decimal.RequireFromString(it.q), decimal.RequireFromString(it.p)
			claim.Items = append(claim.Items, engine.LineItem{Code: it.code, Quantity: engine.MustQuantity(it.q), UnitPrice: engine.MustPrice(it.p),
				Amount: engine.MustMoney(q.Mul(p).Round(2).String())})
		}
		person := engine.Person{ID: "P1", Region: "R1", Scheme: engine.SchemeEmployee, Employment: engine.EmploymentEmployed,
			Category: engine.CategoryDestitute, AccountBalance: engine.Yuan(500)}
		var results []engine.Result
		for _, p := range []*engine.Policy{pol, again} {
			in := engine.Input{Policy: p, Person: person, Institution: engine.Institution{ID: "H1", Level: 1}, Claim: claim,
				Accumulators: engine.NewAccumulators("P1", claim.SettleDate.Year)}
			res, err := engine.Settle(in)
			if err != nil {
				t.Fatalf("Settle with a loaded policy: %v", err)
			}
			if err := engine.CheckResult(res); err != nil {
				t.Fatalf("CheckResult: %v", err)
			}
			results = append(results, res)
		}
		if a, b := results[0].Breakdown, results[1].Breakdown; !sameBreakdown(a, b) {
			t.Fatalf("the re-loaded policy settles differently:\n%+v\n%+v", a, b)
		}
	})
}

func sameBreakdown(a, b engine.Breakdown) bool {
	x := []engine.Money{a.Total, a.OutOfScope, a.OverLimit, a.PreSelfPay, a.InScope, a.Deductible, a.BasicFund, a.OverCap, a.Catastrophic, a.MedicalAid, a.FundTotal, a.PersonalTotal, a.Account, a.Cash}
	y := []engine.Money{b.Total, b.OutOfScope, b.OverLimit, b.PreSelfPay, b.InScope, b.Deductible, b.BasicFund, b.OverCap, b.Catastrophic, b.MedicalAid, b.FundTotal, b.PersonalTotal, b.Account, b.Cash}
	for i := range x {
		if !x[i].Equal(y[i]) {
			return false
		}
	}
	return true
}

// sameFields reports every field that is wrong but not reported, and every
// field reported that is fine.
func sameFields(t *testing.T, want, got map[string]bool, err error) {
	t.Helper()
	for field := range want {
		if !got[field] {
			t.Errorf("%s is wrong but not reported; violations: %v", field, err)
		}
	}
	for field := range got {
		if !want[field] {
			t.Errorf("%s is reported but is fine; violations: %v", field, err)
		}
	}
}
