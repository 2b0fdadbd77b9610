package national

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// settleLikeGateway settles visit v's details as 2207 would, without
// marking the visit: a gateway that crashed between the two.
func (f *stFixture) settleLikeGateway(v store.Visit, date string) string {
	f.t.Helper()
	ctx := api.WithPrincipal(context.Background(), api.Principal{Role: api.RoleInstitution, Institution: "H1"})
	items, _, err := claimLines(ctx, f.g, v, "B1")
	if err != nil {
		f.t.Fatal(err)
	}
	resp, err := f.local.Settle(ctx, &pb.SettleRequest{RequestId: settleRequestID(v), InstitutionId: "H1", PersonId: v.PersonID,
		VisitType: pb.VisitType_VISIT_TYPE_OUTPATIENT, SettleDate: date, UsePersonalAccount: true, Items: items})
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.GetSettlement().GetSettlementId()
}

// TestSettleHealsALostMark: a settlement committed under the visit's
// request id whose visit was never marked (a crash between the two) is
// the answer of the next 2207, which marks the visit; the same the next
// day (when the request differs by its settle date).
func TestSettleHealsALostMark(t *testing.T) {
	for _, nextDay := range []bool{false, true} {
		f := newStFixture(t)
		v := f.s1Outpatient()
		id := f.settleLikeGateway(v, "2025-03-04")
		if nextDay {
			f.clock.add(24 * time.Hour)
		}
		out := f.ok("2207", outpatientInput(v, "450", s1OutpatientFigures))
		if got := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`); got != id {
			t.Fatalf("next day %v: 2207 answered %s, the committed settlement is %s", nextDay, got, id)
		}
		if got := f.visit(v.ID); got.State != store.VisitSettled || got.SettlementID != id {
			t.Fatalf("next day %v: visit %+v", nextDay, got)
		}
		if got := field(t, out, "setlinfo.balc"); got != "685.00" {
			t.Errorf("balc %s, want 685.00 (one settlement)", got)
		}
	}
}

// TestSettleAfterAReversalOverGRPC: a visit SETTLED by a settlement
// since reversed over gRPC (or whose reopening was lost) is reopened by
// the next 2207, which settles anew.
func TestSettleAfterAReversalOverGRPC(t *testing.T) {
	f := newStFixture(t)
	v := f.s1Outpatient()
	out := f.ok("2207", outpatientInput(v, "450", ""))
	first := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
	ctx := api.WithPrincipal(context.Background(), api.Principal{Role: api.RoleInstitution, Institution: "H1"})
	if _, err := f.local.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: "R1", SettlementId: first}); err != nil {
		t.Fatal(err)
	}
	again := f.ok("2207", outpatientInput(v, "450", ""))
	second := strings.Trim(field(t, again, "setlinfo.setl_id"), `"`)
	if second == first {
		t.Fatal("2207 answered the reversed settlement")
	}
	if got := f.visit(v.ID); got.State != store.VisitSettled || got.SettlementID != second || got.Generation != 1 {
		t.Fatalf("visit %+v", got)
	}
}

// cancellingVisits cancels a visit just before it is marked settled: a
// 2202 arriving while 2207 settles.
type cancellingVisits struct{ store.VisitStore }

func (c cancellingVisits) MarkVisitSettled(ctx context.Context, id, settlementID string) (store.Visit, error) {
	if _, err := c.VisitStore.CancelVisit(ctx, id); err != nil {
		return store.Visit{}, err
	}
	return c.VisitStore.MarkVisitSettled(ctx, id, settlementID)
}

// TestSettleOfAVisitCancelledMeanwhile: on the heal path (a settlement
// recorded under the visit's request id, its visit not marked), the
// settlement of a visit cancelled before it could be marked is reversed,
// and 2207 refused: the person's account and accumulators are as before.
func TestSettleOfAVisitCancelledMeanwhile(t *testing.T) {
	f := newStFixture(t)
	v := f.s1Outpatient()
	f.settleLikeGateway(v, "2025-03-04")
	f.g.visits = cancellingVisits{f.st}
	r, _ := f.tx("H1", "2207", "M1", outpatientInput(v, "450", ""))
	if r.Infcode != "-1" || !strings.Contains(r.ErrMsg, "已撤销") {
		t.Fatalf("2207 of a visit cancelled meanwhile: %s %s", r.Infcode, r.ErrMsg)
	}
	snap, err := f.st.Snapshot(context.Background(), "S1", "H1", 2025)
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Person.AccountBalance.Equal(mon("1000")) || len(snap.Accumulators.VisitTypes) != 0 {
		t.Fatalf("after the undone settlement: balance %s, accumulators %+v", snap.Person.AccountBalance, snap.Accumulators)
	}
}

// changingVisits runs change once the gateway has read a visit's
// details (FeeDetails or VisitDetails: between its read of the visit and
// the settlement): a 2202, 2204 or 2205 arriving while 2207 settles.
type changingVisits struct {
	store.VisitStore
	change func(visitID string)
}

func (c changingVisits) FeeDetails(ctx context.Context, visitID, batch string) ([]store.FeeDetail, error) {
	ds, err := c.VisitStore.FeeDetails(ctx, visitID, batch)
	if err == nil && c.change != nil {
		c.change(visitID)
	}
	return ds, err
}

func (c changingVisits) VisitDetails(ctx context.Context, visitID, batch string) (store.Visit, []store.FeeDetail, error) {
	v, ds, err := c.VisitStore.VisitDetails(ctx, visitID, batch)
	if err == nil && c.change != nil {
		c.change(visitID)
	}
	return v, ds, err
}

// TestSettleRefusedWhenTheVisitChanges: a 2207 whose visit changes
// between the gateway's read of it and the settlement (its details
// uploaded or cancelled, the visit cancelled) is refused saying what
// changed, and nothing is settled: the person, the visit and the
// request id are as before, so the next 2207 settles the visit as it is.
func TestSettleRefusedWhenTheVisitChanges(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, want string
		change     func(f *stFixture, id string)
	}{
		{"an upload", "费用明细在读取后已变化", func(f *stFixture, id string) {
			if err := f.st.PutFeeDetails(ctx, id, []store.FeeDetail{func() store.FeeDetail {
				d := line("C9", "1", "50", "50")
				d.VisitID, d.Batch, d.SN = id, "B1", "99"
				return d
			}()}); err != nil {
				f.t.Fatal(err)
			}
		}},
		{"a cancellation of details", "费用明细在读取后已变化", func(f *stFixture, id string) {
			if n, err := f.st.CancelFeeDetails(ctx, id, "B1", "1"); err != nil || n != 1 {
				f.t.Fatalf("CancelFeeDetails: %d, %v", n, err)
			}
		}},
		{"the visit's cancellation", "已撤销", func(f *stFixture, id string) {
			if _, err := f.st.CancelVisit(ctx, id); err != nil {
				f.t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStFixture(t)
			v := f.s1Outpatient()
			before := f.state()
			once := false
			f.g.visits = changingVisits{VisitStore: f.st, change: func(id string) {
				if !once {
					once = true
					tc.change(f, id)
				}
			}}
			r, _ := f.tx("H1", "2207", "M1", outpatientInput(v, "450", ""))
			if r.Infcode != "-1" || !strings.Contains(r.ErrMsg, tc.want) {
				t.Fatalf("2207 of a visit changed meanwhile: %s %s; want a refusal saying %s", r.Infcode, r.ErrMsg, tc.want)
			}
			got := f.visit(v.ID)
			if got.SettlementID != "" || !got.SettledAt.IsZero() || got.SettleMsgid != "" {
				t.Fatalf("the refused 2207 settled the visit: %+v", got)
			}
			snap, err := f.st.Snapshot(ctx, "S1", "H1", 2025)
			if err != nil {
				t.Fatal(err)
			}
			if !snap.Person.AccountBalance.Equal(mon("1000")) || len(snap.Accumulators.VisitTypes) != 0 {
				t.Fatalf("after the refused 2207: balance %s, accumulators %+v", snap.Person.AccountBalance, snap.Accumulators)
			}
			if got.State != store.VisitOpen {
				return
			}
			// Nothing of the refusal stays: with the change undone, the
			// visit settles under the same request id.
			if f.state() == before {
				t.Fatal("the change made no difference to the state")
			}
			f.g.visits = f.st
			ds, err := f.st.FeeDetails(ctx, v.ID, "B1")
			if err != nil {
				t.Fatal(err)
			}
			sum := engine.Money{}
			for _, d := range ds {
				sum = sum.Add(d.Amount)
			}
			out := f.ok("2207", outpatientInput(v, sum.String(), ""))
			settled := f.visit(v.ID)
			if id := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`); settled.State != store.VisitSettled || settled.SettlementID != id ||
				settled.SettleMsgid != f.msgid || settled.Generation != 0 {
				t.Fatalf("the next 2207 answered %s; visit %+v", id, settled)
			}
		})
	}
}

// TestConcurrentSettle: 2207s of one visit at the same time settle it
// once, and all answer that settlement.
func TestConcurrentSettle(t *testing.T) {
	f := newStFixture(t)
	v := f.s1Outpatient()
	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, out := f.tx("H1", "2207", "C"+string(rune('0'+i)), outpatientInput(v, "450", ""))
			if r.Infcode != "0" {
				t.Errorf("2207 #%d: %s", i, r.ErrMsg)
				return
			}
			ids[i] = strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
		}()
	}
	wg.Wait()
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("concurrent 2207s answered %v", ids)
		}
	}
	snap, err := f.st.Snapshot(context.Background(), "S1", "H1", 2025)
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Person.AccountBalance.Equal(mon("685")) {
		t.Fatalf("balance %s after concurrent 2207s, want 685.00 (one settlement)", snap.Person.AccountBalance)
	}
}

// TestSettleAfterALostMarkAndAReversalOverGRPC: a settlement committed
// under the visit's request id whose mark was lost, then reversed over
// gRPC, is not the answer of the next 2207 (the visit would be SETTLED by
// a reversed settlement and the HIS told it settled): the visit is
// reopened and settled anew.
func TestSettleAfterALostMarkAndAReversalOverGRPC(t *testing.T) {
	f := newStFixture(t)
	v := f.s1Outpatient()
	first := f.settleLikeGateway(v, "2025-03-04")
	ctx := api.WithPrincipal(context.Background(), api.Principal{Role: api.RoleInstitution, Institution: "H1"})
	if _, err := f.local.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: "R1", SettlementId: first}); err != nil {
		t.Fatal(err)
	}
	out := f.ok("2207", outpatientInput(v, "450", ""))
	second := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
	if second == first {
		t.Fatal("2207 answered the reversed settlement as settled")
	}
	if got := f.visit(v.ID); got.State != store.VisitSettled || got.SettlementID != second || got.Generation != 1 {
		t.Fatalf("visit %+v", got)
	}
	if got := field(t, out, "setlinfo.balc"); got != "685.00" {
		t.Errorf("balc %s, want 685.00 (one live settlement)", got)
	}
}

// settlingAgainVisits has the visit reopened and settled anew (by
// "ST-AGAIN") just before the first ReopenVisit: a 2207 that healed the
// visit while a 2208 was between its reversal and its reopening.
type settlingAgainVisits struct {
	store.VisitStore
	done *bool
}

func (s settlingAgainVisits) ReopenVisit(ctx context.Context, id, settlementID string) (store.Visit, error) {
	if !*s.done {
		*s.done = true
		if _, err := s.VisitStore.ReopenVisit(ctx, id, settlementID); err != nil {
			return store.Visit{}, err
		}
		if _, err := s.VisitStore.MarkVisitSettled(ctx, id, "ST-AGAIN"); err != nil {
			return store.Visit{}, err
		}
	}
	return s.VisitStore.ReopenVisit(ctx, id, settlementID)
}

// TestReopenRefusedNamesTheVisit: when the visit's reopening is refused
// because it moved on meanwhile (a concurrent 2207 reopened it and settled
// it anew), 2208 and 2207 say what the visit is now, not that it does not
// exist (the visit read before the failed reopening is kept).
func TestReopenRefusedNamesTheVisit(t *testing.T) {
	// 2208 between its reversal and its reopening.
	f := newStFixture(t)
	v := f.s1Outpatient()
	out := f.ok("2207", outpatientInput(v, "450", ""))
	first := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
	f.g.visits = settlingAgainVisits{VisitStore: f.st, done: new(bool)}
	// The reversal has committed: it is answered, not refused, though the
	// visit has been settled anew meanwhile.
	if r, out := f.tx("H1", "2208", "RV1", reversal(first, v)); r.Infcode != "0" || !strings.Contains(out, first) {
		t.Fatalf("2208 after a concurrent 2207 settled the visit anew: %s %s", r.Infcode, r.ErrMsg)
	}
	if s := f.grpcSettlement(first); s.GetState() != pb.SettlementState_SETTLEMENT_STATE_REVERSED {
		t.Fatalf("the settlement is %v after 2208", s.GetState())
	}
	if got := f.visit(v.ID); got.State != store.VisitSettled || got.SettlementID != "ST-AGAIN" || got.ReversedSettlementID != first {
		t.Errorf("visit after the reversal and the concurrent 2207: %+v", got)
	}

	// 2207 healing a visit SETTLED by a settlement reversed over gRPC.
	f = newStFixture(t)
	v = f.s1Outpatient()
	out = f.ok("2207", outpatientInput(v, "450", ""))
	first = strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
	ctx := api.WithPrincipal(context.Background(), api.Principal{Role: api.RoleInstitution, Institution: "H1"})
	if _, err := f.local.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: "R1", SettlementId: first}); err != nil {
		t.Fatal(err)
	}
	f.g.visits = settlingAgainVisits{VisitStore: f.st, done: new(bool)}
	if r, _ := f.tx("H1", "2207", "ST2", outpatientInput(v, "450", "")); r.Infcode != "-1" || !strings.Contains(r.ErrMsg, "已结算（setl_id ST-AGAIN）") {
		t.Errorf("2207 whose healing reopening was refused: %s %s", r.Infcode, r.ErrMsg)
	}
}
