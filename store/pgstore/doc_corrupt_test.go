package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// TestCorruptRowsAreInternal: a stored settlement whose breakdown no
// longer adds up, or accumulators with a negative total, are refused on
// read as engine.ErrInvariant, never answered as they are.
func TestCorruptRowsAreInternal(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.PutPerson(ctx, engine.Person{ID: "P", Name: "P", Region: "R", Scheme: engine.SchemeEmployee}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutInstitution(ctx, engine.Institution{ID: "H", Name: "H", Region: "R", Level: 1}); err != nil {
		t.Fatal(err)
	}
	one := engine.Yuan(1)
	claim := engine.Claim{RequestID: "R1", InstitutionID: "H", PersonID: "P", VisitType: engine.VisitInpatient,
		SettleDate: engine.Date{Year: 2026, Month: time.March, Day: 1},
		Items:      []engine.LineItem{{Code: "A", Quantity: engine.QuantityOf(1), UnitPrice: engine.MustPrice("1"), Amount: one}}}
	rec, err := st.Settle(ctx, claim, func(py store.PersonYear) (engine.Result, error) {
		delta := engine.NewAccumulators("P", 2026)
		delta.AidPaid = one
		return engine.Result{Breakdown: engine.Breakdown{Total: one, InScope: one, BasicFund: one, FundTotal: one}, Delta: delta}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetSettlement(ctx, rec.ID); err != nil {
		t.Fatalf("the settlement as stored: %v", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	corrupt := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	corrupt(`UPDATE "` + schema + `".settlements SET result = jsonb_set(result::jsonb, '{Breakdown,PersonalTotal}', '"0.50"')::json`)
	if _, err := st.GetSettlement(ctx, rec.ID); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("a settlement whose parts do not add up: %v, want engine.ErrInvariant", err)
	}
	corrupt(`UPDATE "` + schema + `".person_years SET accumulators = jsonb_set(accumulators::jsonb, '{AidPaid}', '"-1"')::json`)
	if _, err := st.Snapshot(ctx, "P", "H", 2026); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("accumulators with a negative total: %v, want engine.ErrInvariant", err)
	}
	corrupt(`UPDATE "` + schema + `".person_years SET accumulators = (accumulators::jsonb - 'AidPaid')::json`)
	if _, err := st.Snapshot(ctx, "P", "H", 2026); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("accumulators missing a field: %v, want engine.ErrInvariant", err)
	}
}
