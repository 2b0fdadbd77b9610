package api

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestSettleCheck: a SettleCheck sees the result Settle computed and its
// error refuses the settlement (FAILED_PRECONDITION) with nothing
// committed; the same request then settles when the check passes, and a
// retry of it is answered without a check (nothing is computed).
func TestSettleCheck(t *testing.T) {
	at := time.Date(2026, 3, 2, 3, 4, 5, 0, time.UTC)
	_, local := localServer(t, func() time.Time { return at })
	req := claimOf("chk-1", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "20")
	accBefore, err := local.GetAccumulators(localAs("H1"), &pb.GetAccumulatorsRequest{PersonId: "P1", Year: 2026})
	must(t, err)
	var seen engine.Result
	refuseAll := func(r engine.Result) error {
		seen = r
		return fmt.Errorf("%w: figures moved", ErrSettleCheck)
	}
	_, err = local.Settle(WithSettleCheck(localAs("H1"), refuseAll), req)
	if st, ok := status.FromError(err); !ok || st.Code() != codes.FailedPrecondition {
		t.Fatalf("Settle refused by its check: %v, want FAILED_PRECONDITION", err)
	}
	if seen.Breakdown.Total.IsZero() {
		t.Fatal("the check saw no result")
	}
	accAfter, err := local.GetAccumulators(localAs("H1"), &pb.GetAccumulatorsRequest{PersonId: "P1", Year: 2026})
	must(t, err)
	if accAfter.String() != accBefore.String() {
		t.Fatalf("a refused settlement changed the accumulators: %v → %v", accBefore, accAfter)
	}
	calls := 0
	pass := func(r engine.Result) error { calls++; return nil }
	s, err := local.Settle(WithSettleCheck(localAs("H1"), pass), req)
	must(t, err)
	if calls == 0 || !seen.Breakdown.Total.Equal(engine.MustMoney(s.GetSettlement().GetBreakdown().GetTotal())) {
		t.Fatalf("the passing check ran %d times", calls)
	}
	checked := 0
	countRefuse := func(r engine.Result) error { checked++; return ErrSettleCheck }
	again, err := local.Settle(WithSettleCheck(localAs("H1"), countRefuse), req)
	must(t, err)
	if again.GetSettlement().GetSettlementId() != s.GetSettlement().GetSettlementId() || checked != 0 {
		t.Fatalf("the retry settled %s (first %s), checked %d times", again.GetSettlement().GetSettlementId(),
			s.GetSettlement().GetSettlementId(), checked)
	}
}
