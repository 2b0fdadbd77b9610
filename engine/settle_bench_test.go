package engine_test

import (
	"fmt"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// loadPolicy is the part of examples/policies/350500-employee-2026.1.json
// that `make loadtest`'s Settle row uses (catalog, both benefits, the cap
// pool, the warning ratio and the DRG groups), built here so that engine's
// tests read no file and import no API.
func loadPolicy(b *testing.B) *engine.Policy {
	b.Helper()
	m, r := engine.MustMoney, engine.MustRatio
	mp := func(s string) *engine.Money { v := m(s); return &v }
	pp := func(s string) *engine.Price { v := engine.MustPrice(s); return &v }
	warn := r("0.9")
	sched := func(a, b, c string) engine.Schedule {
		return engine.Schedule{Bands: []engine.Band{{UpTo: mp("5000"), Ratio: r(a)}, {UpTo: mp("10000"), Ratio: r(b)}, {Ratio: r(c)}}}
	}
	rates := []engine.RateRow{
		{Level: 3, Employment: engine.EmploymentEmployed, Schedule: sched("0.87", "0.90", "0.95")},
		{Level: 3, Employment: engine.EmploymentRetired, Schedule: sched("0.922", "0.94", "0.97")},
		{Level: 2, Schedule: sched("0.90", "0.92", "0.96")},
	}
	p := &engine.Policy{
		Region: "350500", Scheme: engine.SchemeEmployee, Version: "2026.1",
		EffectiveFrom: engine.Date{Year: 2026, Month: 1, Day: 1}, EffectiveTo: engine.Date{Year: 2026, Month: 12, Day: 31},
		UnknownItem: engine.UnknownItemSelfPay,
		Catalog: []engine.CatalogEntry{
			{Code: "A-BED", Category: engine.ItemA}, {Code: "A-SURG", Category: engine.ItemA},
			{Code: "A-DRUG", Category: engine.ItemA, PriceCap: pp("12.5")},
			{Code: "B-DRUG", Category: engine.ItemB, SelfPayRatio: r("0.10")},
			{Code: "B-STENT", Category: engine.ItemB, SelfPayRatio: r("0.20"), PriceCap: pp("8000")},
			{Code: "C-VIP", Category: engine.ItemC},
		},
		Benefits: []engine.Benefit{
			{VisitType: engine.VisitInpatient, Accumulation: engine.AccumulationPerVisit, CapPool: "basic",
				Deductibles: []engine.DeductibleRow{{Level: 3, Amounts: []engine.Money{m("700"), m("500"), m("0")}},
					{Level: 2, Amounts: []engine.Money{m("500"), m("300"), m("0")}}},
				Rates: rates},
			{VisitType: engine.VisitChronicOutpatient, Accumulation: engine.AccumulationAnnual, CapPool: "basic",
				Deductibles: []engine.DeductibleRow{{Level: 3, Amounts: []engine.Money{m("700")}}, {Level: 2, Amounts: []engine.Money{m("500")}}},
				Rates:       rates},
		},
		CapPools:             []engine.CapPool{{Name: "basic", Rows: []engine.CapPoolRow{{MinYears: 0, Amount: m("10000")}, {MinYears: 2, Amount: m("20000")}}}},
		UnregisteredRatioCut: r("0.10"),
		BudgetWarnRatio:      &warn,
	}
	if err := engine.ValidatePolicy(p); err != nil {
		b.Fatalf("loadPolicy: %v", err)
	}
	return p.Index()
}

// loadClaim is `make loadtest`'s 6-line inpatient claim
// (benchmarks/loadtest/calls.go claimItems) at QZ-H3 for person id.
func loadClaim(id string) engine.Claim {
	line := func(code, name, q, price, amount string) engine.LineItem {
		return engine.LineItem{Code: code, Name: name, Quantity: engine.MustQuantity(q), UnitPrice: engine.MustPrice(price), Amount: engine.MustMoney(amount)}
	}
	return engine.Claim{
		RequestID: "lt-" + id, InstitutionID: "QZ-H3", PersonID: id, VisitType: engine.VisitInpatient,
		SettleDate: engine.Date{Year: 2026, Month: 6, Day: 15},
		Items: []engine.LineItem{
			line("A-BED", "bed", "12", "80", "960.00"), line("A-SURG", "surgery", "1", "18500", "18500.00"),
			line("A-DRUG", "drug", "40", "15.0000", "600.00"), line("B-DRUG", "drug", "33.3333", "7.5000", "250.00"),
			line("B-STENT", "stent", "1", "9800", "9800.00"), line("C-VIP", "ward", "5", "200", "1000.00"),
		},
	}
}

// loadPersons is how many persons `make loadtest` settles for: their
// accumulators are spread over memory as a store's are, so the benchmark
// pays the cache misses the server does.
const loadPersons = 2000

// loadInputs are loadClaim's inputs for loadPersons employees of 350500,
// each with accumulators of one earlier claim this year.
func loadInputs(b *testing.B) []engine.Input {
	b.Helper()
	p := loadPolicy(b)
	inst := engine.Institution{ID: "QZ-H3", Region: "350500", Level: 3, Budgets: []engine.Budget{{Year: 2026, Amount: engine.Yuan(1_000_000_000)}}}
	ins := make([]engine.Input, loadPersons)
	for i := range ins {
		id := fmt.Sprintf("LT%d", i)
		person := engine.Person{ID: id, Region: "350500", Scheme: engine.SchemeEmployee, Employment: engine.EmploymentEmployed, ContributionYears: 9}
		in := engine.Input{Policy: p, Person: person, Institution: inst, Claim: loadClaim(id),
			Accumulators: engine.NewAccumulators(id, 2026), ClaimValidated: true}
		res, err := engine.Settle(in)
		if err != nil {
			b.Fatal(err)
		}
		in.Accumulators = engine.SettleChanges(in.Claim, res).ApplyAccumulators(in.Accumulators)
		ins[i] = in
	}
	return ins
}

// BenchmarkSettleLoadClaim is engine.Settle alone on `make loadtest`'s
// claim, person after person.
func BenchmarkSettleLoadClaim(b *testing.B) {
	ins := loadInputs(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := engine.Settle(ins[i]); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(ins)
	}
}

// BenchmarkSettleLoadPath is the engine's whole part of a store's Settle
// on `make loadtest`'s claim: Settle, the claim as decided, its
// fingerprint, the changes, the new accumulators and the budget status.
// The accumulators are kept as a store keeps them, and start over before
// a person's running totals could grow past what CheckBounds allows.
func BenchmarkSettleLoadPath(b *testing.B) {
	ins := loadInputs(b)
	first := make([]engine.Accumulators, len(ins))
	for i := range ins {
		first[i] = ins[i].Accumulators
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in := &ins[i]
		res, err := engine.Settle(*in)
		if err != nil {
			b.Fatal(err)
		}
		claim := in.Claim.Decided(res.CrossRegion)
		if len(claim.Fingerprint()) != 64 {
			b.Fatal("fingerprint")
		}
		in.Accumulators = engine.SettleChanges(claim, res).ApplyAccumulators(in.Accumulators)
		if in.Accumulators.InpatientCount > 50 {
			in.Accumulators = first[i]
		}
		_ = engine.NewBudgetStatus(2026, *res.BudgetLimit, res.Budget.Used, res.WarnRatio)
		i = (i + 1) % len(ins)
	}
}

// BenchmarkApplyAccumulators is a store's ApplyAccumulators of one
// settlement's changes (a visit type and a cap pool) to accumulators that
// hold both already.
func BenchmarkApplyAccumulators(b *testing.B) {
	ins := loadInputs(b)
	res, err := engine.Settle(ins[0])
	if err != nil {
		b.Fatal(err)
	}
	ch := engine.SettleChanges(ins[0].Claim, res)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = ch.ApplyAccumulators(ins[i].Accumulators)
		i = (i + 1) % len(ins)
	}
}

// BenchmarkFingerprintLoadClaim is Claim.Fingerprint of `make loadtest`'s
// claim.
func BenchmarkFingerprintLoadClaim(b *testing.B) {
	c := loadClaim("LT7").Decided(engine.CrossRegionLocal)
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Fingerprint()
	}
}

// BenchmarkValidateLoadClaim is ValidateClaim of `make loadtest`'s claim,
// as the API's request parsing runs it on every Settle.
func BenchmarkValidateLoadClaim(b *testing.B) {
	c := loadClaim("LT7")
	b.ReportAllocs()
	for b.Loop() {
		if err := engine.ValidateClaim(c); err != nil {
			b.Fatal(err)
		}
	}
}
