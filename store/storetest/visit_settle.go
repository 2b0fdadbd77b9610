package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// SettleVisit: a settlement and its visit's mark commit together or not at
// all (store.VisitStore.SettleVisit).

// settleVisitDay is the settle date of the visit claims (2025's policy).
var settleVisitDay = engine.Date{Year: 2025, Month: time.June, Day: 2}

// markOf is the mark of v as read now, with the national call's msgid and
// certificate type.
func markOf(v store.Visit, msgid string) store.VisitMark {
	return store.VisitMark{VisitID: v.ID, Generation: v.Generation, DetailsVersion: v.DetailsVersion, Msgid: msgid, CertType: "02"}
}

// settleVisit calls SettleVisit with the claim's own compute.
func (e *visitEnv) settleVisit(c engine.Claim, mark store.VisitMark) (engine.Settlement, error) {
	return e.vs.SettleVisit(e.ctx, c, e.compute(c), mark)
}

// refusedMark settles c with mark, wants the error target (or a validation
// error naming field when target is nil), and checks that nothing
// changed: the stores' state, the visit, and c's request id (no
// settlement recorded for it).
func (e *visitEnv) refusedMark(what string, c engine.Claim, mark store.VisitMark, target error, field string) {
	e.t.Helper()
	before, visits := e.world(), map[string]store.Visit{}
	for _, id := range []string{mark.VisitID} {
		if v, err := e.vs.GetVisit(e.ctx, id); err == nil {
			visits[id] = v
		}
	}
	_, err := e.settleVisit(c, mark)
	if target != nil {
		wantErr(e.t, what, err, target)
	} else {
		wantInvalid(e.t, what, err, field)
	}
	e.unchanged(what, before)
	for id, v := range visits {
		e.sameVisit(what+": the visit", e.visit(id), v)
	}
}

// testSettleVisit settles a visit with its settlement: every refusal
// (unknown visit, reopened or details changed since the read, settled,
// cancelled, a mark too long, compute's error) changes nothing and leaves
// the request id free; the success settles the visit with the time, msgid
// and certificate type; a replay answers the recorded settlement without
// touching the visit; reopening clears what SettleVisit kept, and
// MarkVisitSettled (the gateway's heal path) keeps none.
func testSettleVisit(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	v := e.open(outpatientVisit("SV1"))
	e.put(v.ID, detail(v.ID, "B1", "1", "1", "10"))
	v = e.visit(v.ID)
	mark := markOf(v, "H1202506021000000001")
	claim := inpatient("SV-1", hospBudget, psnEmployed, settleVisitDay, "100")

	unknown := mark
	unknown.VisitID = "MD00000000000000000000000000ff"
	e.refusedMark("an unknown visit", claim, unknown, store.ErrNotFound, "")
	unknown.VisitID = "MD\x00"
	e.refusedMark("a visit id no store can hold", claim, unknown, store.ErrNotFound, "")
	stale := mark
	stale.Generation++
	e.refusedMark("another generation", claim, stale, store.ErrVisitNotOpen, "")
	long := mark
	long.Msgid = strings.Repeat("9", engine.MaxIDLen+1)
	e.refusedMark("a msgid too long", claim, long, nil, "mark.msgid")
	long = mark
	long.CertType = strings.Repeat("0", store.MaxCertTypeLen+1)
	e.refusedMark("a certificate type too long", claim, long, nil, "mark.cert_type")
	for _, at := range []time.Time{time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)} {
		far := mark
		far.At = at
		e.refusedMark("a settle time no store can keep ("+at.Format(time.RFC3339)+")", claim, far, nil, "mark.at")
	}
	errCompute := errors.New("compute refuses")
	before := e.world()
	if _, err := vs.SettleVisit(ctx, claim, func(store.PersonYear) (engine.Result, error) { return engine.Result{}, errCompute }, mark); !errors.Is(err, errCompute) {
		t.Errorf("SettleVisit whose compute fails: %v, want compute's error", err)
	}
	e.unchanged("a compute that fails", before)
	e.sameVisit("the visit after compute failed", e.visit(v.ID), v)

	// The details change after the read: the mark read before is stale.
	e.put(v.ID, detail(v.ID, "B1", "2", "1", "5"))
	changed := e.visit(v.ID)
	if changed.DetailsVersion == v.DetailsVersion {
		t.Fatalf("an upload left DetailsVersion at %d", v.DetailsVersion)
	}
	e.refusedMark("details changed since the read", claim, mark, store.ErrVisitNotOpen, "")
	v, mark = changed, markOf(changed, "H1202506021000000002")

	// The refusals left SV-1 free: it settles the visit now.
	from := time.Now().Add(-time.Second)
	st, err := e.settleVisit(claim, mark)
	if err != nil {
		t.Fatalf("SettleVisit: %v", err)
	}
	to := time.Now().Add(time.Second)
	if rec := e.get(st.ID); rec.State != engine.StateSettled || rec.Claim.RequestID != "SV-1" {
		t.Errorf("recorded settlement: %v %s", rec.State, rec.Claim.RequestID)
	}
	if py := e.snap(psnEmployed, hospBudget, 2025); py.Accumulators.InpatientCount != 1 {
		t.Errorf("inpatient count %d after the settlement, want 1", py.Accumulators.InpatientCount)
	}
	got := e.visit(v.ID)
	want := v
	want.State, want.SettlementID, want.SettleMsgid, want.SettleCertType = store.VisitSettled, st.ID, mark.Msgid, "02"
	want.SettledAt = got.SettledAt
	e.sameVisit("the settled visit", got, want)
	if at := got.SettledAt; at.Before(from) || at.After(to) || at.Location() != time.UTC || !at.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("SettledAt %v, want the commit's time in UTC to the microsecond (between %v and %v)", at, from, to)
	}
	settled := got

	// A replay answers the recorded settlement and does not touch the
	// visit, whatever its mark.
	for what, m := range map[string]store.VisitMark{"the same mark": mark, "a stale mark": stale, "another visit": unknown} {
		again, err := e.settleVisit(claim, m)
		if err != nil || again.ID != st.ID {
			t.Errorf("replay with %s: %s, %v; want %s", what, again.ID, err, st.ID)
		}
		e.sameVisit("the visit after a replay with "+what, e.visit(v.ID), settled)
	}
	// Another request on the settled visit is refused.
	e.refusedMark("a settled visit", inpatient("SV-2", hospBudget, psnEmployed, settleVisitDay, "50"), mark, store.ErrVisitNotOpen, "")

	// Reopening clears what SettleVisit kept; the mark read before the
	// reopening is stale, a new one settles.
	reopened, err := vs.ReopenVisit(ctx, v.ID, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	want = settled
	want.State, want.SettlementID, want.ReversedSettlementID, want.Generation = store.VisitOpen, "", st.ID, 1
	want.SettledAt, want.SettleMsgid, want.SettleCertType = time.Time{}, "", ""
	e.sameVisit("the reopened visit", reopened, want)
	e.sameVisit("the reopened visit read back", e.visit(v.ID), want)
	c3 := inpatient("SV-3", hospBudget, psnEmployed, settleVisitDay, "30")
	e.refusedMark("the mark read before the reopening", c3, mark, store.ErrVisitNotOpen, "")
	// This time the caller gives the time (VisitMark.At, on its clock, in
	// another zone and finer than a microsecond): the visit keeps it
	// exactly, in UTC to the microsecond.
	mark3 := markOf(reopened, "H1202506021000000003")
	mark3.At = time.Date(2025, time.June, 2, 18, 30, 15, 123456789, time.FixedZone("CST", 8*3600))
	st3, err := e.settleVisit(c3, mark3)
	if err != nil {
		t.Fatalf("SettleVisit after reopening: %v", err)
	}
	wantAt := time.Date(2025, time.June, 2, 10, 30, 15, 123456000, time.UTC)
	if got := e.visit(v.ID); got.State != store.VisitSettled || got.SettlementID != st3.ID || got.SettleMsgid != "H1202506021000000003" ||
		!got.SettledAt.Equal(wantAt) || got.SettledAt.Location() != time.UTC {
		t.Errorf("visit settled after reopening with the caller's time %v: %+v; want SettledAt %v", mark3.At, got, wantAt)
	}

	// The heal path: MarkVisitSettled keeps no time, msgid or type.
	heal := e.open(outpatientVisit("SV2"))
	marked, err := vs.MarkVisitSettled(ctx, heal.ID, "ST-HEAL")
	if err != nil {
		t.Fatal(err)
	}
	for what, got := range map[string]store.Visit{"answered": marked, "read back": e.visit(heal.ID)} {
		if got.State != store.VisitSettled || !got.SettledAt.IsZero() || got.SettleMsgid != "" || got.SettleCertType != "" {
			t.Errorf("MarkVisitSettled's visit %s: %+v", what, got)
		}
	}

	// A cancelled visit is not settled.
	gone := e.open(outpatientVisit("SV3"))
	if _, err := vs.CancelVisit(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	e.refusedMark("a cancelled visit", inpatient("SV-4", hospBudget, psnEmployed, settleVisitDay, "20"), markOf(gone, "H1"), store.ErrVisitNotOpen, "")
}

// testSettleVisitConcurrent settles one visit from two requests at once,
// with different request ids: exactly one settles it, the other is
// refused with ErrVisitNotOpen and records nothing.
func testSettleVisitConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	for round := range 5 {
		v := e.open(outpatientVisit(fmt.Sprintf("SC%d", round)))
		mark := markOf(v, fmt.Sprintf("H1-%d", round))
		claims := []engine.Claim{
			inpatient(fmt.Sprintf("SC-%d-a", round), hospBudget, psnEmployed, settleVisitDay, "10"),
			inpatient(fmt.Sprintf("SC-%d-b", round), hospBudget, psnEmployed, settleVisitDay, "20"),
		}
		sts, errs := make([]engine.Settlement, 2), make([]error, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range claims {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				sts[i], errs[i] = e.settleVisit(claims[i], mark)
			}()
		}
		close(start)
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won < 0:
				won = i
			case err == nil:
				t.Fatalf("round %d: both requests settled the visit (%s, %s)", round, sts[0].ID, sts[1].ID)
			default:
				wantErr(t, fmt.Sprintf("round %d: the losing request", round), err, store.ErrVisitNotOpen)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: neither request settled the visit: %v", round, errs)
		}
		if got := e.visit(v.ID); got.State != store.VisitSettled || got.SettlementID != sts[won].ID {
			t.Errorf("round %d: visit %s by %s, want settled by %s", round, got.State, got.SettlementID, sts[won].ID)
		}
		if py := e.snap(psnEmployed, hospBudget, 2025); py.Accumulators.InpatientCount != round+1 {
			t.Errorf("round %d: inpatient count %d, want %d (one settlement per round)", round, py.Accumulators.InpatientCount, round+1)
		}
	}
}
