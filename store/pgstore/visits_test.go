package pgstore_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// TestVisitsSurviveReopening writes visits and fee details through one
// store, closes it and reads them back through a new one on the same
// schema, as a restarted server would: every field, the upload order, the
// cancelled lines gone from the list but kept in the table, the figures
// stored as exact NUMERICs; and the second store goes on where the first
// stopped (retries, SN uniqueness, transitions).
func TestVisitsSurviveReopening(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	ctx := context.Background()
	first, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	person := engine.Person{ID: "P", Name: "p", Region: "R", Scheme: engine.SchemeResident, AccountBalance: engine.MustMoney("0")}
	if err := first.PutPerson(ctx, person); err != nil {
		t.Fatal(err)
	}
	in := store.Visit{InstitutionID: "H", PersonID: "P", Kind: store.VisitKindInpatient, Number: "ZY0001",
		Scheme: engine.SchemeResident, MedType: "21", Begin: "2026-03-01 08:00:00"}
	v, err := first.OpenVisit(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	line := func(sn, q, p, a string) store.FeeDetail {
		return store.FeeDetail{VisitID: v.ID, SN: sn, Code: "XA01", Name: "头孢 " + sn, Quantity: engine.MustQuantity(q),
			UnitPrice: engine.MustPrice(p), Amount: engine.MustMoney(a), FeeTime: "2026-03-01 09:00:00", MedType: "21"}
	}
	l1, l2, l3 := line("1", "1.2345", "3.333333", "4.11"), line("2", "0.0001", "0.000001", "0.00"), line("3", "2", "50", "100.00")
	if err := first.PutFeeDetails(ctx, v.ID, []store.FeeDetail{l1, l2, l3}); err != nil {
		t.Fatal(err)
	}
	if n, err := first.CancelFeeDetails(ctx, v.ID, "", "2"); n != 1 || err != nil {
		t.Fatalf("CancelFeeDetails: %d, %v", n, err)
	}
	if err := first.RecordDischarge(ctx, v.ID, `{"endtime":"2026-03-09"}`); err != nil {
		t.Fatal(err)
	}
	if v, err = first.MarkVisitSettled(ctx, v.ID, "ST1"); err != nil {
		t.Fatal(err)
	}
	if v, err = first.ReopenVisit(ctx, v.ID, "ST1"); err != nil {
		t.Fatal(err)
	}
	first.Close()

	second, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	got, err := second.GetVisit(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != v || got.Generation != 1 || got.ReversedSettlementID != "ST1" || got.Discharge != `{"endtime":"2026-03-09"}` {
		t.Errorf("visit after reopening the store: %+v, want %+v", got, v)
	}
	if retry, err := second.OpenVisit(ctx, in); err != nil || retry != v {
		t.Errorf("retry after reopening the store: %+v, %v", retry, err)
	}
	lines, err := second.FeeDetails(ctx, v.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0] != l1 || lines[1] != l3 {
		t.Errorf("details after reopening the store: %+v", lines)
	}
	// Stored exactly, the cancelled line kept and marked.
	rows, err := second.Pool().Query(ctx, `SELECT seq, sn, quantity::text, unit_price::text, amount::text, cancelled_at IS NOT NULL
		FROM `+pgx.Identifier{schema}.Sanitize()+`.fee_details WHERE visit_id = $1 ORDER BY seq`, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		seq         int
		sn, q, p, a string
		cancelled   bool
	}
	var stored []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.seq, &r.sn, &r.q, &r.p, &r.a, &r.cancelled); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []row{{1, "1", "1.2345", "3.333333", "4.11", false}, {2, "2", "0.0001", "0.000001", "0.00", true}, {3, "3", "2.0000", "50.000000", "100.00", false}}
	if len(stored) != len(want) {
		t.Fatalf("fee_details rows %+v, want %+v", stored, want)
	}
	for i := range want {
		if stored[i] != want[i] {
			t.Errorf("fee_details row %d: %+v, want %+v", i, stored[i], want[i])
		}
	}
	// The second store goes on: a live SN with other content conflicts,
	// the cancelled one is free, the next line comes last.
	other := l1
	other.Amount = engine.MustMoney("4.12")
	if err := second.PutFeeDetails(ctx, v.ID, []store.FeeDetail{other}); err == nil {
		t.Error("a live SN with other content after reopening the store was accepted")
	}
	l2b := line("2", "1", "1", "1.00")
	if err := second.PutFeeDetails(ctx, v.ID, []store.FeeDetail{l2b}); err != nil {
		t.Fatal(err)
	}
	if lines, err := second.FeeDetails(ctx, v.ID, ""); err != nil || len(lines) != 3 || lines[2] != l2b {
		t.Errorf("details after uploading SN 2 again: %+v, %v", lines, err)
	}
	if _, err := second.ReopenVisit(ctx, v.ID, "ST1"); err != nil {
		t.Errorf("a retried ReopenVisit after reopening the store: %v", err)
	}
}
