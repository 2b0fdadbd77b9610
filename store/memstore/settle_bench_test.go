package memstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// benchResult is a settlement's result as the engine shapes it: a
// breakdown, three detail lines, a delta and a budget, with the figures of
// a 6-line claim.
func benchResult(person string) engine.Result {
	m := engine.MustMoney
	delta := engine.NewAccumulators(person, 2024)
	delta.InpatientCount = 1
	delta.VisitTypes = map[engine.VisitType]engine.VisitAccumulator{engine.VisitInpatient: {InScope: m("900"), DeductiblePaid: m("700")}}
	delta.PoolUsed = map[string]engine.Money{"basic": m("174")}
	limit := m("1000000")
	return engine.Result{PolicyVersion: "v1", PolicyRegion: "R1", PolicyScheme: engine.SchemeEmployee, CrossRegion: engine.CrossRegionLocal,
		Breakdown: engine.Breakdown{Total: m("1000"), OutOfScope: m("100"), InScope: m("900"), Deductible: m("700"),
			BasicFund: m("174"), FundTotal: m("174"), PersonalTotal: m("826"), Cash: m("826")},
		Details: []engine.Detail{
			{Fund: engine.FundBasic, Band: 1, Ratio: engine.MustRatio("0.87"), Base: m("200"), Amount: m("174")},
		},
		Delta: delta, BudgetLimit: &limit, WarnRatio: engine.MustRatio("0.9")}
}

// BenchmarkMemstoreSettle is the embedded store's part of a settlement
// (the compute is a fixed result): a new request each time, over 64
// persons, in parallel.
func BenchmarkMemstoreSettle(b *testing.B) {
	ctx := context.Background()
	s := memstore.New()
	const persons = 64
	for i := 0; i < persons; i++ {
		if err := s.PutPerson(ctx, engine.Person{ID: fmt.Sprintf("P%02d", i), Region: "R1", Scheme: engine.SchemeEmployee}); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.PutInstitution(ctx, engine.Institution{ID: "H1", Region: "R1", Level: 3,
		Budgets: []engine.Budget{{Year: 2024, Amount: engine.MustMoney("1000000")}}}); err != nil {
		b.Fatal(err)
	}
	items := make([]engine.LineItem, 6)
	for i := range items {
		items[i] = engine.LineItem{Code: fmt.Sprintf("X%03d", i), Name: "item", Quantity: engine.QuantityOf(1),
			UnitPrice: engine.MustPrice("100"), Amount: engine.MustMoney("100")}
	}
	results := make([]engine.Result, persons)
	for i := range results {
		results[i] = benchResult(fmt.Sprintf("P%02d", i))
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	reportCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			p := int(n % persons)
			claim := engine.Claim{RequestID: fmt.Sprint(n), InstitutionID: "H1", PersonID: fmt.Sprintf("P%02d", p),
				VisitType: engine.VisitInpatient, SettleDate: engine.Date{Year: 2024, Month: 3, Day: 1}, Items: items}
			res := results[p]
			if _, err := s.Settle(ctx, claim, func(store.PersonYear) (engine.Result, error) { return res, nil }); err != nil {
				b.Fatal(err)
			}
		}
	})
}
