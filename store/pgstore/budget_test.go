package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// TestBudgetShardsNeverWait holds every budget usage shard of an
// institution in open transactions, as settlements of other persons in
// flight past their budget write do, and checks that settlements and a
// reversal of yet another person still complete at once, and that the
// usage is the exact sum once everything commits.
func TestBudgetShardsNeverWait(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	const year = 2026
	for _, id := range []string{"PA", "PB"} {
		if err := st.PutPerson(ctx, engine.Person{ID: id, Name: id, Region: "R", Scheme: engine.SchemeEmployee}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutInstitution(ctx, engine.Institution{ID: "H", Name: "H", Region: "R", Level: 1}); err != nil {
		t.Fatal(err)
	}
	claim := func(person, req string) engine.Claim {
		return engine.Claim{RequestID: req, InstitutionID: "H", PersonID: person, VisitType: engine.VisitInpatient,
			SettleDate: engine.Date{Year: year, Month: time.March, Day: 1},
			Items:      []engine.LineItem{{Code: "A", Quantity: engine.QuantityOf(1), UnitPrice: engine.MustPrice("1"), Amount: engine.Yuan(1)}}}
	}
	pays := func(basicFund string) store.ComputeFunc {
		return func(py store.PersonYear) (engine.Result, error) {
			// A breakdown that adds up: the store refuses to read back one
			// that does not.
			b := engine.MustMoney(basicFund)
			return engine.Result{
				Breakdown: engine.Breakdown{Total: b, InScope: b, BasicFund: b, FundTotal: b},
				Delta:     engine.NewAccumulators(py.Person.ID, year),
			}, nil
		}
	}
	settle := func(person, req, basicFund string) engine.Settlement {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		s, err := st.Settle(cctx, claim(person, req), pays(basicFund))
		if err != nil {
			t.Fatalf("Settle %s for %s while every shard is held: %v", req, person, err)
		}
		return s
	}
	usage := func() string {
		t.Helper()
		py, err := st.Snapshot(ctx, "PA", "H", year)
		if err != nil {
			t.Fatal(err)
		}
		return py.BudgetUsed.String()
	}
	// PB has settled here before: a design that gives each person a shard
	// of their own would have made PB's shard by now, to be held below.
	settle("PB", "b0", "1.00")
	holders := make([]pgx.Tx, 0, 3)
	held := 0 // shards the holders add 0.01 to
	defer func() {
		for _, tx := range holders {
			_ = tx.Rollback(context.Background())
		}
	}()
	for i := range 3 {
		settle("PA", fmt.Sprintf("a%d", i), "100.00")
		tx, err := st.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		holders = append(holders, tx)
		// Hold every shard the holders before do not, as settlements in
		// flight would.
		tag, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE %[1]s.budget_usage SET used = used + 0.01
			WHERE (institution_id, year, shard) IN (SELECT institution_id, year, shard FROM %[1]s.budget_usage
				WHERE institution_id = 'H' AND year = $1 FOR UPDATE SKIP LOCKED)`, pgx.Identifier{st.Schema()}.Sanitize()), year)
		if err != nil {
			t.Fatal(err)
		}
		if tag.RowsAffected() == 0 {
			t.Fatalf("holder %d found no free shard: a settlement waited or reused a held shard", i)
		}
		held += int(tag.RowsAffected())
	}
	// Every shard is held: PB neither waits for a shard nor for PA.
	b1 := settle("PB", "b1", "10.00")
	settle("PB", "b2", "20.00")
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := st.Reverse(rctx, store.Reversal{RequestID: "b1-undo", SettlementID: b1.ID}); err != nil {
		t.Fatalf("Reverse while every shard is held: %v", err)
	}
	if got := usage(); got != "321.00" {
		t.Errorf("usage with the holders open = %s, want 300 + 1 + 20 = 321.00", got)
	}
	// The holders commit, each having added 0.01 to each shard it held:
	// nothing anyone added is lost.
	for _, tx := range holders {
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	holders = nil
	want := engine.Yuan(321).Add(engine.MoneyFromFen(int64(held)))
	if got := usage(); got != want.String() {
		t.Errorf("usage after the holders committed = %s, want %s (holders held %d shards)", got, want, held)
	}
}
