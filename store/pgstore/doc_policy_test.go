package pgstore

import (
	"bytes"
	"errors"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// goldenPolicy is the policy the policy golden files hold: every section
// present, every enum away from zero.
func goldenPolicy() *engine.Policy {
	m := func(s string) *engine.Money { d := engine.MustMoney(s); return &d }
	sched := engine.Schedule{Bands: []engine.Band{{UpTo: m("10000"), Ratio: engine.MustRatio("0.8")}, {Ratio: engine.MustRatio("0.9")}}, AnnualCap: m("300000")}
	return &engine.Policy{Region: "110000", Scheme: engine.SchemeEmployee, Version: "2026.1",
		EffectiveFrom: engine.Date{Year: 2026, Month: 1, Day: 1}, EffectiveTo: engine.Date{Year: 2026, Month: 12, Day: 31},
		UnknownItem: engine.UnknownItemReject,
		Catalog: []engine.CatalogEntry{
			{Code: "X001", Category: engine.ItemA, SelfPayRatio: engine.MustRatio("0")},
			{Code: "X002", Category: engine.ItemB, SelfPayRatio: engine.MustRatio("0.1"), PriceCap: ptr(engine.MustPrice("150"))},
			{Code: "X003", Category: engine.ItemC, SelfPayRatio: engine.MustRatio("1")},
		},
		Benefits: []engine.Benefit{{VisitType: engine.VisitInpatient, Accumulation: engine.AccumulationPerVisit,
			Deductibles: []engine.DeductibleRow{{Level: 3, Amounts: []engine.Money{engine.MustMoney("1300"), engine.MustMoney("650")}}},
			Rates:       []engine.RateRow{{Level: 3, Employment: engine.EmploymentRetired, Schedule: sched}}, CapPool: "main"},
			{VisitType: engine.VisitChronicOutpatient, Accumulation: engine.AccumulationAnnual,
				Rates: []engine.RateRow{{Level: 1, Employment: engine.EmploymentEmployed, Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: engine.MustRatio("0.7")}}}}}}},
		CapPools:             []engine.CapPool{{Name: "main", Rows: []engine.CapPoolRow{{MinYears: 0, Amount: engine.MustMoney("300000")}, {MinYears: 15, Amount: engine.MustMoney("400000")}}}},
		UnregisteredRatioCut: engine.MustRatio("0.1"),
		Catastrophic: &engine.Catastrophic{VisitTypes: []engine.VisitType{engine.VisitInpatient, engine.VisitChronicOutpatient},
			IncludePreSelfPay: true, SpecialCategories: []engine.Category{engine.CategoryDestitute, engine.CategoryMonitored},
			Normal: sched, Special: &engine.Schedule{Bands: []engine.Band{{Ratio: engine.MustRatio("0.65")}}}},
		MedicalAid: []engine.AidRule{{Category: engine.CategoryPovertyAlleviated, Schedule: sched, IncludePreSelfPay: true, OOPCeiling: m("5000")},
			{Category: engine.CategoryMinimumLiving, Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: engine.MustRatio("0.7")}}}}},
		AccountCoversOutOfScope: true,
		BudgetWarnRatio:         ptr(engine.MustRatio("0.85")),
		DRG: &engine.DRG{Groups: []engine.DRGGroup{{Code: "GB11", BasePoints: engine.MustPoints("120.5"), AverageCost: engine.MustMoney("23000")}},
			Coefficients:   []engine.DRGCoefficient{{InstitutionID: "H1", Level: 3, Coefficient: engine.MustRatio("1.05")}},
			HighThresholds: []engine.DRGHighThreshold{{UpToPoints: ptr(engine.MustPoints("100")), Ratio: engine.MustRatio("3")}, {Ratio: engine.MustRatio("2")}},
			LowRatio:       engine.MustRatio("0.4"), ReserveRatio: engine.MustRatio("0.05"), PointValueBasis: engine.PointValueFundOnly},
		BudgetClearing: &engine.BudgetClearing{VisitTypes: []engine.VisitType{engine.VisitOutpatient}, SurplusRetention: engine.MustRatio("0.5"),
			MinUtilization: engine.MustRatio("0.85"), OverspendShare: engine.MustRatio("0.6"), OverspendTolerance: engine.MustRatio("0.1")},
	}
}

// ptr is a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// TestGoldenPolicy: the stored policy documents of every format decode to
// the exact policy, and the current format is written byte for byte.
func TestGoldenPolicy(t *testing.T) {
	want := goldenPolicy()
	for _, name := range []string{"policy_untagged.json", "policy_v1.json"} {
		w := untagged(want)
		if name == "policy_v1.json" {
			w = func() ([]byte, error) { return encodePolicy(want) }
		}
		doc := golden(t, name, w, *updateGolden && name == "policy_v1.json")
		got, err := decodePolicy(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		same(t, name, got, want)
		if _, ok := got.Item("X002"); !ok {
			t.Errorf("%s: the decoded policy is not indexed", name)
		}
	}
	enc, err := encodePolicy(want)
	if err != nil {
		t.Fatal(err)
	}
	if doc := golden(t, "policy_v1.json", nil, false); !bytes.Equal(enc, doc) {
		t.Errorf("a policy is written as\n%s\nthe golden file has\n%s", enc, doc)
	}
}

// TestStoredPolicyRefused: a stored policy missing a field or carrying an
// unknown enum number is refused as engine.ErrInvariant.
func TestStoredPolicyRefused(t *testing.T) {
	cases := map[string][]byte{
		"without Benefits": edit(t, "policy_untagged.json", func(m map[string]any) { delete(m, "Benefits") }),
		"without a rate's Schedule": edit(t, "policy_v1.json", func(m map[string]any) {
			delete(m["Benefits"].([]any)[0].(map[string]any)["Rates"].([]any)[0].(map[string]any), "Schedule")
		}),
		"without DRG.LowRatio": edit(t, "policy_v1.json", func(m map[string]any) { delete(m["DRG"].(map[string]any), "LowRatio") }),
		"an unknown item category": edit(t, "policy_v1.json", func(m map[string]any) {
			m["Catalog"].([]any)[0].(map[string]any)["Category"] = 8
		}),
		"an unknown aid category": edit(t, "policy_v1.json", func(m map[string]any) {
			m["MedicalAid"].([]any)[0].(map[string]any)["Category"] = 6
		}),
		"an unknown scheme": edit(t, "policy_v1.json", func(m map[string]any) { m["Scheme"] = 3 }),
		"version 2":         edit(t, "policy_v1.json", func(m map[string]any) { m["v"] = 2 }),
	}
	for name, doc := range cases {
		if _, err := decodePolicy(doc); !errors.Is(err, engine.ErrInvariant) {
			t.Errorf("%s: %v, want engine.ErrInvariant", name, err)
		}
	}
}
