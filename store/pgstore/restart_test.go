package pgstore_test

import (
	"context"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// TestEverythingSurvivesReopening writes through one store, closes it and
// reads everything back through a new one on the same schema, as a
// restarted server would.
func TestEverythingSurvivesReopening(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	ctx := context.Background()
	first, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	d := engine.MustMoney
	pol := &engine.Policy{
		Region: "R", Scheme: engine.SchemeEmployee, Version: "v1",
		EffectiveFrom: engine.Date{Year: 2026, Month: 1, Day: 1}, EffectiveTo: engine.Date{Year: 2026, Month: 12, Day: 31},
		Catalog: []engine.CatalogEntry{{Code: "A", Category: engine.ItemA}},
		Benefits: []engine.Benefit{{VisitType: engine.VisitInpatient, Accumulation: engine.AccumulationPerVisit,
			Deductibles: []engine.DeductibleRow{{Level: 2, Amounts: []engine.Money{d("500"), d("0")}}},
			Rates:       []engine.RateRow{{Level: 2, Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: engine.MustRatio("0.9")}}}}},
			CapPool:     "p"}},
		CapPools: []engine.CapPool{{Name: "p", Rows: []engine.CapPoolRow{{MinYears: 0, Amount: d("30000")}}}},
	}
	if err := engine.ValidatePolicy(pol); err != nil {
		t.Fatal(err)
	}
	person := engine.Person{ID: "P", Name: "p", Region: "R", Scheme: engine.SchemeEmployee, Employment: engine.EmploymentEmployed,
		ContributionYears: 3, AccountBalance: d("200.00")}
	inst := engine.Institution{ID: "H", Name: "h", Region: "R", Level: 2, Budgets: []engine.Budget{{Year: 2026, Amount: d("9000")}}}
	for _, err := range []error{first.PutPolicy(ctx, pol.Index()), first.PutPerson(ctx, person), first.PutInstitution(ctx, inst)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	claim := engine.Claim{RequestID: "r1", InstitutionID: "H", PersonID: "P", VisitType: engine.VisitInpatient,
		SettleDate: engine.Date{Year: 2026, Month: 3, Day: 1}, UsePersonalAccount: true,
		Items: []engine.LineItem{{Code: "A", Quantity: engine.QuantityOf(1), UnitPrice: engine.MustPrice("2500"), Amount: d("2500.00")}}}
	settled, err := first.Settle(ctx, claim, func(st store.PersonYear) (engine.Result, error) {
		return engine.Settle(engine.Input{Policy: pol, Person: st.Person, Institution: inst, Claim: claim,
			Accumulators: st.Accumulators, BudgetUsed: st.BudgetUsed})
	})
	if err != nil {
		t.Fatal(err)
	}
	before, err := first.Snapshot(ctx, "P", "H", 2026)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()

	second, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	pols, err := second.Policies(ctx, "R", engine.SchemeEmployee)
	if err != nil || len(pols) != 1 || !pols[0].Benefits[0].Deductibles[0].Amounts[0].Equal(d("500")) || pols[0].CapPools[0].Name != "p" {
		t.Fatalf("policies after reopening: %v (%v)", pols, err)
	}
	if got, err := second.GetInstitution(ctx, "H"); err != nil || !got.Budgets[0].Amount.Equal(d("9000")) {
		t.Errorf("institution after reopening: %+v (%v)", got, err)
	}
	got, err := second.GetSettlement(ctx, settled.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Result.Breakdown.BasicFund.Equal(settled.Result.Breakdown.BasicFund) || !got.Result.Breakdown.BasicFund.Equal(d("1800")) ||
		!got.Result.Breakdown.Account.Equal(d("200.00")) || got.State != engine.StateSettled {
		t.Errorf("settlement after reopening: %+v", got)
	}
	after, err := second.Snapshot(ctx, "P", "H", 2026)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Accumulators.Equal(before.Accumulators) || !after.Person.AccountBalance.Equal(d("0")) ||
		!after.BudgetUsed.Equal(settled.Result.Breakdown.BasicFund) || after.Accumulators.InpatientCount != 1 {
		t.Errorf("state after reopening: %+v, before %+v", after, before)
	}
	// The retry after the restart replays.
	again, err := second.Settle(ctx, claim, func(store.PersonYear) (engine.Result, error) {
		t.Error("a retry computed again")
		return engine.Result{}, nil
	})
	if err != nil || again.ID != settled.ID {
		t.Errorf("retry after reopening: %v (%v)", again.ID, err)
	}
}
