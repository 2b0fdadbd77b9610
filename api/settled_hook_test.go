package api

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestSettled: the Settled hook gets the settlement a successful Settle
// answers, as GetSettlement reads it now (but the claim's items, which
// Settle does not answer either): on the first call, on a retry,
// and on a retry after a reversal (state reversed, the answer unchanged);
// a refused Settle does not call it.
func TestSettled(t *testing.T) {
	at := time.Date(2026, 3, 2, 3, 4, 5, 0, time.UTC)
	_, local := localServer(t, func() time.Time { return at })
	req := claimOf("hook-1", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "20")
	var got []engine.Settlement
	ctx := WithSettled(localAs("H1"), func(st engine.Settlement) { got = append(got, st) })
	settleAndCompare := func(wantState pb.SettlementState) {
		t.Helper()
		resp, err := local.Settle(ctx, req)
		must(t, err)
		st := got[len(got)-1]
		if !proto.Equal(settlementToProto(st.AsFirstAnswered()), resp.GetSettlement()) {
			t.Fatalf("the hook got %+v, Settle answered %v", st, resp.GetSettlement())
		}
		now, err := local.GetSettlement(localAs("H1"), &pb.GetSettlementRequest{SettlementId: st.ID})
		must(t, err)
		now.GetSettlement().Items = nil // Settle answers no items; nor does the hook get them
		if !proto.Equal(settlementToProto(st), now.GetSettlement()) || now.GetSettlement().GetState() != wantState {
			t.Fatalf("the hook got %v, GetSettlement reads %v", settlementToProto(st), now.GetSettlement())
		}
	}
	settleAndCompare(pb.SettlementState_SETTLEMENT_STATE_SETTLED)
	settleAndCompare(pb.SettlementState_SETTLEMENT_STATE_SETTLED)
	_, err := local.ReverseSettlement(localAs("H1"), &pb.ReverseSettlementRequest{RequestId: "hook-r",
		SettlementId: got[0].ID, Reason: "test"})
	must(t, err)
	settleAndCompare(pb.SettlementState_SETTLEMENT_STATE_REVERSED)
	if len(got) != 3 || got[1].ID != got[0].ID || got[2].ID != got[0].ID {
		t.Fatalf("the hook was called %d times: %v", len(got), got)
	}
	bad := claimOf("hook-1", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "30")
	if _, err := local.Settle(ctx, bad); err == nil {
		t.Fatal("a request id reused for another claim was settled")
	}
	if len(got) != 3 {
		t.Fatalf("a refused Settle called the hook (%d calls)", len(got))
	}
}
