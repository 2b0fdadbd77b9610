package api

import (
	"context"
	"errors"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// TestTimedVisitDetailsPerson: the timed store answers VisitDetailsPerson
// on both stores (pgstore's own one-round-trip read, memstore's two
// operations) as VisitDetails and then GetPerson: the visit with its
// lines and the person; the person's ErrNotFound apart; a missing visit's
// ErrNotFound as the call's error, with nothing read. So the national
// gateway, given the server's timed store, reads a settlement's person
// with its visit on PostgreSQL.
func TestTimedVisitDetailsPerson(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			ts := WithStoreTimeouts(newStore(t, kind), StoreTimeouts{}).(*timedVisitStore)
			if _, one := ts.visits.(visitDetailsPersonReader); one != (kind == pgKind) {
				t.Fatalf("%s reads a visit and a person in one round trip: %v", kind, one)
			}
			must(t, ts.PutPerson(ctx, engine.Person{ID: "P1", Region: "R1", Scheme: engine.SchemeEmployee}))
			v, err := ts.OpenVisit(ctx, store.Visit{InstitutionID: "H1", PersonID: "P1", Kind: store.VisitKindInpatient, Number: "N1",
				Scheme: engine.SchemeEmployee, MedType: "21", Begin: "2026-03-01 08:00:00"})
			must(t, err)
			line := store.FeeDetail{SN: "1", Batch: "B", Code: "X1", Name: "item", FeeTime: "2026-03-01 09:00:00", MedType: "21",
				Quantity: engine.QuantityOf(2), UnitPrice: engine.MustPrice("1.5"), Amount: engine.MustMoney("3")}
			must(t, ts.PutFeeDetails(ctx, v.ID, []store.FeeDetail{line}))

			got, details, p, perr, err := ts.VisitDetailsPerson(ctx, v.ID, "B", "P1")
			must(t, err)
			if perr != nil || p.ID != "P1" || p.Region != "R1" {
				t.Errorf("person: %+v, %v", p, perr)
			}
			if got.ID != v.ID || got.State != store.VisitOpen || got.DetailsVersion != 1 || len(details) != 1 ||
				details[0].SN != "1" || details[0].Amount.String() != "3.00" {
				t.Errorf("visit %+v, details %+v", got, details)
			}

			_, _, _, perr, err = ts.VisitDetailsPerson(ctx, v.ID, "B", "P9")
			if err != nil || !errors.Is(perr, store.ErrNotFound) {
				t.Errorf("unknown person: err %v, person's %v; want the person's ErrNotFound alone", err, perr)
			}
			_, _, _, perr, err = ts.VisitDetailsPerson(ctx, "V-none", "B", "P1")
			if !errors.Is(err, store.ErrNotFound) || perr != nil {
				t.Errorf("unknown visit: err %v, person's %v; want the visit's ErrNotFound", err, perr)
			}
		})
	}
}
