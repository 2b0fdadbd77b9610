package engine_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// idPolicy is a resident policy of region R made so that every figure of
// the identity tests is worked out by hand:
//   - inpatient: no deductible, the basic fund pays 50% (level 1), no cap;
//   - catastrophic (inpatient) on the base in_scope − basic: normal 0 to
//     10,000 then 50%; special (POVERTY_ALLEVIATED, DESTITUTE) 0 to 5,000
//     then 60%; no caps;
//   - medical aid, in this order: DESTITUTE 90% capped at 1,000;
//     MINIMUM_LIVING 0 to 1,000 then 70%, capped at 5,000; MONITORED 50%,
//     capped at 3,000.
func idPolicy(t *testing.T) *engine.Policy {
	t.Helper()
	m := engine.MustMoney
	mp := func(s string) *engine.Money { v := m(s); return &v }
	r := engine.MustRatio
	p := &engine.Policy{
		Region: "R", Scheme: engine.SchemeResident, Version: "2026",
		EffectiveFrom: d26(1, 1), EffectiveTo: d26(12, 31),
		UnknownItem: engine.UnknownItemSelfPay,
		Catalog:     []engine.CatalogEntry{{Code: "A", Category: engine.ItemA}},
		Benefits: []engine.Benefit{{
			VisitType: engine.VisitInpatient, Accumulation: engine.AccumulationPerVisit,
			Deductibles: []engine.DeductibleRow{{Level: 1, Amounts: []engine.Money{m("0")}}},
			Rates:       []engine.RateRow{{Level: 1, Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: r("0.5")}}}}},
		}},
		Catastrophic: &engine.Catastrophic{
			VisitTypes:        []engine.VisitType{engine.VisitInpatient},
			SpecialCategories: []engine.Category{engine.CategoryPovertyAlleviated, engine.CategoryDestitute},
			Normal:            engine.Schedule{Bands: []engine.Band{{UpTo: mp("10000"), Ratio: r("0")}, {Ratio: r("0.5")}}},
			Special:           &engine.Schedule{Bands: []engine.Band{{UpTo: mp("5000"), Ratio: r("0")}, {Ratio: r("0.6")}}},
		},
		MedicalAid: []engine.AidRule{
			{Category: engine.CategoryDestitute, Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: r("0.9")}}, AnnualCap: mp("1000")}},
			{Category: engine.CategoryMinimumLiving, Schedule: engine.Schedule{
				Bands: []engine.Band{{UpTo: mp("1000"), Ratio: r("0")}, {Ratio: r("0.7")}}, AnnualCap: mp("5000")}},
			{Category: engine.CategoryMonitored, Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: r("0.5")}}, AnnualCap: mp("3000")}},
		},
	}
	if err := engine.ValidatePolicy(p); err != nil {
		t.Fatalf("idPolicy: %v", err)
	}
	return p.Index()
}

// d26 is a date of 2026.
func d26(month, d int) engine.Date { return engine.Date{Year: 2026, Month: time.Month(month), Day: d} }

// held is a dated identity of 2026.
func held(c engine.Category, fromMonth, fromDay, toMonth, toDay int) engine.Identity {
	return engine.Identity{Category: c, ValidFrom: d26(fromMonth, fromDay), ValidTo: d26(toMonth, toDay)}
}

// idPerson is a resident of R with an undated category and identities.
func idPerson(c engine.Category, ids ...engine.Identity) engine.Person {
	return engine.Person{ID: "P", Name: "P", Region: "R", Scheme: engine.SchemeResident, Category: c, Identities: ids}
}

// idLedger settles one person's claims in turn, carrying the year's
// accumulators from one to the next as a store does.
type idLedger struct {
	t      *testing.T
	policy *engine.Policy
	person engine.Person
	acc    engine.Accumulators
	n      int
}

func newIDLedger(t *testing.T, p *engine.Policy, person engine.Person) *idLedger {
	return &idLedger{t: t, policy: p, person: person, acc: engine.NewAccumulators(person.ID, 2026)}
}

// settle settles an inpatient claim of in-scope cost inScope on d.
func (l *idLedger) settle(d engine.Date, inScope string) engine.Result {
	l.t.Helper()
	l.n++
	c := engine.Claim{RequestID: "R" + strings.Repeat("x", l.n), InstitutionID: "H", PersonID: l.person.ID,
		VisitType: engine.VisitInpatient, SettleDate: d,
		Items: []engine.LineItem{{Code: "A", Name: "a", Quantity: engine.MustQuantity("1"), UnitPrice: engine.MustPrice(inScope), Amount: engine.MustMoney(inScope)}}}
	res, err := engine.Settle(engine.Input{Policy: l.policy, Person: l.person, Institution: engine.Institution{ID: "H", Region: "R", Level: 1},
		Claim: c, Accumulators: l.acc})
	if err != nil {
		l.t.Fatalf("Settle on %s: %v", d, err)
	}
	l.acc = engine.SettleChanges(c, res).ApplyAccumulators(l.acc)
	return res
}

// fundNames name the funds as the API does.
var fundNames = map[engine.Fund]string{engine.FundBasic: "FUND_BASIC", engine.FundCatastrophic: "FUND_CATASTROPHIC",
	engine.FundMedicalAid: "FUND_MEDICAL_AID", engine.FundAidCeiling: "FUND_AID_CEILING"}

// want checks a result's catastrophic and aid payments and its detail
// lines, as exact decimal strings ("FUND band ratio base amount").
func want(t *testing.T, what string, res engine.Result, catastrophic, aid string, details ...string) {
	t.Helper()
	b := res.Breakdown
	if b.Catastrophic.String() != catastrophic || b.MedicalAid.String() != aid {
		t.Errorf("%s: catastrophic %s, medical aid %s; want %s, %s", what, b.Catastrophic, b.MedicalAid, catastrophic, aid)
	}
	var got []string
	for _, d := range res.Details {
		got = append(got, fundNames[d.Fund]+" "+strconv.Itoa(d.Band)+" "+d.Ratio.String()+" "+d.Base.String()+" "+d.Amount.String())
	}
	if strings.Join(got, "; ") != strings.Join(details, "; ") {
		t.Errorf("%s: details\n  %s\nwant\n  %s", what, strings.Join(got, "; "), strings.Join(details, "; "))
	}
}

// TestOverlappingIdentitiesFirstAidRuleWins: a person holding MONITORED
// and MINIMUM_LIVING at once is aided by the first of the policy's rules
// it holds (MINIMUM_LIVING), once, whatever the order of its identities;
// with the policy's list the other way round, by MONITORED.
func TestOverlappingIdentitiesFirstAidRuleWins(t *testing.T) {
	p := idPolicy(t)
	person := idPerson(engine.CategoryUnspecified,
		held(engine.CategoryMonitored, 1, 1, 12, 31), held(engine.CategoryMinimumLiving, 1, 1, 12, 31))
	// 10,000 in scope: basic 5,000; catastrophic base 5,000 under the
	// normal threshold (neither category is special); aid base 5,000:
	// MINIMUM_LIVING pays 70% of 4,000 = 2,800 (MONITORED would pay 2,500).
	res := newIDLedger(t, p, person).settle(d26(3, 1), "10000")
	want(t, "MINIMUM_LIVING listed first", res, "0.00", "2800.00",
		"FUND_BASIC 0 0.5 10000.00 5000.00", "FUND_MEDICAL_AID 1 0.7 4000.00 2800.00")
	if !res.Breakdown.FundTotal.Equal(engine.MustMoney("7800")) || !res.Breakdown.Cash.Equal(engine.MustMoney("2200")) {
		t.Errorf("fund total %s, cash %s; want 7800.00, 2200.00", res.Breakdown.FundTotal, res.Breakdown.Cash)
	}

	swapped := idPolicy(t)
	swapped.MedicalAid[1], swapped.MedicalAid[2] = swapped.MedicalAid[2], swapped.MedicalAid[1]
	res = newIDLedger(t, swapped, person).settle(d26(3, 1), "10000")
	want(t, "MONITORED listed first", res, "0.00", "2500.00",
		"FUND_BASIC 0 0.5 10000.00 5000.00", "FUND_MEDICAL_AID 0 0.5 5000.00 2500.00")
}

// TestIdentityChangeMidYearCarriesAidTotals: MONITORED until June, then
// MINIMUM_LIVING. The July claim is aided by MINIMUM_LIVING's schedule and
// cap applied to the year's aid totals so far: its threshold band was
// passed by the March claim's base, and its cap of 5,000 has 2,500 paid
// under MONITORED already.
func TestIdentityChangeMidYearCarriesAidTotals(t *testing.T) {
	l := newIDLedger(t, idPolicy(t), idPerson(engine.CategoryUnspecified,
		held(engine.CategoryMonitored, 1, 1, 6, 30), held(engine.CategoryMinimumLiving, 7, 1, 12, 31)))
	want(t, "March, MONITORED", l.settle(d26(3, 1), "10000"), "0.00", "2500.00",
		"FUND_BASIC 0 0.5 10000.00 5000.00", "FUND_MEDICAL_AID 0 0.5 5000.00 2500.00")
	// Aid base 5,000 → 10,000, all above the 1,000 threshold: 70% of
	// 5,000 = 3,500, capped at 5,000 − 2,500 = 2,500. (Counted afresh, it
	// would be 70% of 4,000 = 2,800.) Catastrophic base 5,000 → 10,000:
	// still under the normal threshold.
	want(t, "July, MINIMUM_LIVING", l.settle(d26(7, 1), "10000"), "0.00", "2500.00",
		"FUND_BASIC 0 0.5 10000.00 5000.00", "FUND_MEDICAL_AID 1 0.7 5000.00 2500.00")
	if got := l.acc.AidBase.String() + " " + l.acc.AidPaid.String() + " " + l.acc.AidOutOfPocket.String(); got != "10000.00 5000.00 5000.00" {
		t.Errorf("aid base, paid, out of pocket: %s; want 10000.00 5000.00 5000.00", got)
	}
	// The cap is spent: no more aid this year (catastrophic base 10,000 →
	// 11,000 pays 50% of 1,000; aid base 500 pays nothing).
	want(t, "August, MINIMUM_LIVING, cap spent", l.settle(d26(8, 1), "2000"), "500.00", "0.00",
		"FUND_BASIC 0 0.5 2000.00 1000.00", "FUND_CATASTROPHIC 1 0.5 1000.00 500.00")
}

// TestRuleWithSmallerCapAfterChange: a rule whose cap is below what the
// year has paid already pays nothing more (never a negative amount).
func TestRuleWithSmallerCapAfterChange(t *testing.T) {
	l := newIDLedger(t, idPolicy(t), idPerson(engine.CategoryUnspecified,
		held(engine.CategoryMonitored, 1, 1, 6, 30), held(engine.CategoryDestitute, 7, 1, 12, 31)))
	want(t, "March, MONITORED", l.settle(d26(3, 1), "10000"), "0.00", "2500.00",
		"FUND_BASIC 0 0.5 10000.00 5000.00", "FUND_MEDICAL_AID 0 0.5 5000.00 2500.00")
	// DESTITUTE is special: catastrophic base 5,000 → 10,000 pays 60% of
	// 5,000 = 3,000. Aid base 10,000 − 5,000 − 3,000 = 2,000 at 90% is
	// 1,800, but DESTITUTE's cap of 1,000 is below the 2,500 paid.
	want(t, "July, DESTITUTE", l.settle(d26(7, 1), "10000"), "3000.00", "0.00",
		"FUND_BASIC 0 0.5 10000.00 5000.00", "FUND_CATASTROPHIC 1 0.6 5000.00 3000.00")
}

// TestSpecialScheduleFromIdentityStart: POVERTY_ALLEVIATED from March 1st
// puts catastrophic insurance on the special schedule from that day, on
// the year's catastrophic base so far; it has no aid rule.
func TestSpecialScheduleFromIdentityStart(t *testing.T) {
	l := newIDLedger(t, idPolicy(t), idPerson(engine.CategoryUnspecified, held(engine.CategoryPovertyAlleviated, 3, 1, 12, 31)))
	// Base 0 → 6,000 on the normal schedule: under its 10,000 threshold.
	want(t, "February 28th, normal", l.settle(d26(2, 28), "12000"), "0.00", "0.00",
		"FUND_BASIC 0 0.5 12000.00 6000.00")
	// Base 6,000 → 12,000 on the special schedule: 60% of 6,000 (the
	// normal one would pay 50% of 2,000 = 1,000).
	want(t, "March 1st, special", l.settle(d26(3, 1), "12000"), "3600.00", "0.00",
		"FUND_BASIC 0 0.5 12000.00 6000.00", "FUND_CATASTROPHIC 1 0.6 6000.00 3600.00")
}

// TestIdentityEndingTheDayBefore: an identity that ended the day before
// the settle date is not held; on its last day it is.
func TestIdentityEndingTheDayBefore(t *testing.T) {
	person := idPerson(engine.CategoryUnspecified, held(engine.CategoryDestitute, 1, 1, 4, 30))
	// April 30th: special catastrophic 60% of 6,000 − 5,000 = 600; aid
	// 90% of 12,000 − 6,000 − 600 = 5,400 is 4,860, capped at 1,000.
	want(t, "April 30th, held", newIDLedger(t, idPolicy(t), person).settle(d26(4, 30), "12000"), "600.00", "1000.00",
		"FUND_BASIC 0 0.5 12000.00 6000.00", "FUND_CATASTROPHIC 1 0.6 1000.00 600.00", "FUND_MEDICAL_AID 0 0.9 5400.00 1000.00")
	want(t, "May 1st, ended", newIDLedger(t, idPolicy(t), person).settle(d26(5, 1), "12000"), "0.00", "0.00",
		"FUND_BASIC 0 0.5 12000.00 6000.00")
	// Starting the day after the settle date: not held either.
	late := idPerson(engine.CategoryUnspecified, held(engine.CategoryDestitute, 5, 2, 12, 31))
	want(t, "the day before it starts", newIDLedger(t, idPolicy(t), late).settle(d26(5, 1), "12000"), "0.00", "0.00",
		"FUND_BASIC 0 0.5 12000.00 6000.00")
}

// TestUndatedCategoryWithIdentities: the undated category holds on every
// date besides the dated identities; the first rule of the policy among
// all the categories held applies.
func TestUndatedCategoryWithIdentities(t *testing.T) {
	person := idPerson(engine.CategoryMonitored, held(engine.CategoryDestitute, 7, 1, 12, 31))
	// March: MONITORED only: normal schedule (base 5,000: nothing), aid
	// 50% of 5,000.
	want(t, "March, undated MONITORED", newIDLedger(t, idPolicy(t), person).settle(d26(3, 1), "10000"), "0.00", "2500.00",
		"FUND_BASIC 0 0.5 10000.00 5000.00", "FUND_MEDICAL_AID 0 0.5 5000.00 2500.00")
	// August: DESTITUTE too, listed first: special schedule (base 5,000:
	// nothing above its threshold), aid 90% of 5,000 capped at 1,000.
	want(t, "August, DESTITUTE and MONITORED", newIDLedger(t, idPolicy(t), person).settle(d26(8, 1), "10000"), "0.00", "1000.00",
		"FUND_BASIC 0 0.5 10000.00 5000.00", "FUND_MEDICAL_AID 0 0.9 5000.00 1000.00")
	// An undated DESTITUTE wins on every date over a dated MINIMUM_LIVING.
	both := idPerson(engine.CategoryDestitute, held(engine.CategoryMinimumLiving, 1, 1, 12, 31))
	want(t, "undated DESTITUTE", newIDLedger(t, idPolicy(t), both).settle(d26(3, 1), "10000"), "0.00", "1000.00",
		"FUND_BASIC 0 0.5 10000.00 5000.00", "FUND_MEDICAL_AID 0 0.9 5000.00 1000.00")
}

// TestOrdinaryInSpecialCategories: a policy listing ORDINARY among the
// special categories gives the special schedule to whoever holds no
// category on the settle date, as it always did to persons whose category
// is ORDINARY; a person holding an unlisted category that day is not
// ordinary.
func TestOrdinaryInSpecialCategories(t *testing.T) {
	p := idPolicy(t)
	p.Catastrophic.SpecialCategories = []engine.Category{engine.CategoryOrdinary}
	person := idPerson(engine.CategoryOrdinary, held(engine.CategoryMonitored, 7, 1, 12, 31))
	// March: ordinary: special 60% of 6,000 − 5,000.
	want(t, "March, ordinary", newIDLedger(t, p, person).settle(d26(3, 1), "12000"), "600.00", "0.00",
		"FUND_BASIC 0 0.5 12000.00 6000.00", "FUND_CATASTROPHIC 1 0.6 1000.00 600.00")
	// August: MONITORED: normal schedule; aid 50% of 6,000 capped 3,000.
	want(t, "August, MONITORED", newIDLedger(t, p, person).settle(d26(8, 1), "12000"), "0.00", "3000.00",
		"FUND_BASIC 0 0.5 12000.00 6000.00", "FUND_MEDICAL_AID 0 0.5 6000.00 3000.00")
}
