package api

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// TestWithVisitMark: a Settle carrying a visit mark settles the visit in
// the same store call (SettleVisit); a stale mark is FAILED_PRECONDITION
// that IsVisitNotOpen recognises, with nothing committed (the request id
// still free); a replay answers the settlement; a store that keeps no
// visits answers INTERNAL. The timed store bounds the visit operations
// and is a VisitStore exactly when its store is one.
func TestWithVisitMark(t *testing.T) {
	at := time.Date(2026, 3, 2, 3, 4, 5, 0, time.UTC)
	c, local := localServer(t, func() time.Time { return at })
	st := c.store.(*memstore.Store)
	ctx := context.Background()
	v, err := st.OpenVisit(ctx, store.Visit{InstitutionID: "H1", PersonID: "P1", Kind: store.VisitKindInpatient, Number: "N1",
		Scheme: engine.SchemeEmployee, MedType: "21", Begin: "2026-03-01 08:00:00"})
	must(t, err)
	mark := store.VisitMark{VisitID: v.ID, Generation: v.Generation, DetailsVersion: v.DetailsVersion, Msgid: "M1", CertType: "02"}
	req := claimOf("mark-1", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "20")

	stale := mark
	stale.Generation++
	_, err = local.Settle(WithVisitMark(localAs("H1"), stale), req)
	if status.Code(err) != codes.FailedPrecondition || !IsVisitNotOpen(err) {
		t.Fatalf("Settle with a stale mark: %v, want FAILED_PRECONDITION recognised by IsVisitNotOpen", err)
	}
	if got, _ := st.GetVisit(ctx, v.ID); got.State != store.VisitOpen {
		t.Fatalf("the refused mark settled the visit: %+v", got)
	}
	resp, err := local.Settle(WithVisitMark(localAs("H1"), mark), req)
	must(t, err)
	id := resp.GetSettlement().GetSettlementId()
	got, err := st.GetVisit(ctx, v.ID)
	must(t, err)
	if got.State != store.VisitSettled || got.SettlementID != id || got.SettleMsgid != "M1" || got.SettleCertType != "02" || got.SettledAt.IsZero() {
		t.Fatalf("visit after Settle with its mark: %+v (settlement %s)", got, id)
	}
	again, err := local.Settle(WithVisitMark(localAs("H1"), stale), req)
	if err != nil || again.GetSettlement().GetSettlementId() != id {
		t.Fatalf("replay: %v, %v; want %s", again, err, id)
	}
	if IsVisitNotOpen(errors.New("other")) || IsVisitNotOpen(status.Error(codes.FailedPrecondition, "other")) {
		t.Error("IsVisitNotOpen recognises other errors")
	}

	// A store without visits: INTERNAL.
	plain := WithStoreTimeouts(noVisits{st}, StoreTimeouts{})
	if _, ok := plain.(store.VisitStore); ok {
		t.Error("the timed store of a store without visits is a VisitStore")
	}
	if _, ok := WithStoreTimeouts(st, StoreTimeouts{}).(store.VisitStore); !ok {
		t.Error("the timed store of a memstore is no VisitStore")
	}
	_, _, local2 := NewServerWithLocal(Config{Store: plain, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return at }})
	_, err = local2.Settle(WithVisitMark(localAs("H1"), mark), claimOf("mark-2", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "20"))
	if status.Code(err) != codes.Internal {
		t.Fatalf("Settle with a mark on a store without visits: %v, want INTERNAL", err)
	}
}

// noVisits hides a store's visits.
type noVisits struct{ store.Store }
