package pgstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// BenchmarkPgstoreSettle is the PostgreSQL store's part of a settlement
// (the compute is a fixed result with a budget, so that every figure
// column and the budget usage are written and read), one at a time over
// 64 persons. Its allocations are the store's and pgx's; its time is
// mostly the database's.
func BenchmarkPgstoreSettle(b *testing.B) {
	ctx := context.Background()
	st := open(b)
	const persons = 64
	for i := 0; i < persons; i++ {
		if err := st.PutPerson(ctx, engine.Person{ID: fmt.Sprintf("P%02d", i), Region: "R1", Scheme: engine.SchemeEmployee,
			AccountBalance: engine.Yuan(1_000_000)}); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.PutInstitution(ctx, engine.Institution{ID: "H1", Region: "R1", Level: 3,
		Budgets: []engine.Budget{{Year: 2024, Amount: engine.MustMoney("1000000000")}}}); err != nil {
		b.Fatal(err)
	}
	items := make([]engine.LineItem, 6)
	for i := range items {
		items[i] = engine.LineItem{Code: fmt.Sprintf("X%03d", i), Name: "item", Quantity: engine.QuantityOf(1),
			UnitPrice: engine.MustPrice("100"), Amount: engine.MustMoney("100")}
	}
	m := engine.MustMoney
	limit := m("1000000000")
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		person := fmt.Sprintf("P%02d", n%persons)
		claim := engine.Claim{RequestID: fmt.Sprint(n), InstitutionID: "H1", PersonID: person,
			VisitType: engine.VisitInpatient, SettleDate: engine.Date{Year: 2024, Month: 3, Day: 1}, Items: items}
		_, err := st.Settle(ctx, claim, func(py store.PersonYear) (engine.Result, error) {
			delta := engine.NewAccumulators(person, 2024)
			delta.InpatientCount = 1
			delta.VisitTypes = map[engine.VisitType]engine.VisitAccumulator{engine.VisitInpatient: {InScope: m("600"), DeductiblePaid: m("100")}}
			delta.PoolUsed = map[string]engine.Money{"basic": m("400")}
			return engine.Result{PolicyVersion: "v1", PolicyRegion: "R1", PolicyScheme: engine.SchemeEmployee,
				CrossRegion: engine.CrossRegionLocal,
				Breakdown: engine.Breakdown{Total: m("600"), InScope: m("600"), Deductible: m("100"), BasicFund: m("400"),
					FundTotal: m("400"), PersonalTotal: m("200"), Account: m("50"), Cash: m("150")},
				Details:     []engine.Detail{{Fund: engine.FundBasic, Band: 1, Ratio: engine.MustRatio("0.8"), Base: m("500"), Amount: m("400")}},
				Delta:       delta,
				BudgetLimit: &limit, WarnRatio: engine.MustRatio("0.9")}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
