package pgstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
)

// TestGroupSettlesVisits settles one group holding a good SettleVisit,
// one whose mark is stale (another generation), one of an unknown visit,
// a second request for the good one's visit, a replay of the good one and
// a plain Settle: the refused marks fail alone (their claims not written,
// their request ids free), the group commits, and the good visit is
// settled with the commit's time as its settlement records it.
func TestGroupSettlesVisits(t *testing.T) {
	ctx := context.Background()
	st := groupFixture(t, pgstore.Options{})
	open := func(number, person string) store.Visit {
		v, err := st.OpenVisit(ctx, store.Visit{InstitutionID: "GH", PersonID: person, Kind: store.VisitKindInpatient, Number: number,
			Scheme: engine.SchemeEmployee, MedType: "21", Begin: "2026-03-01 08:00:00"})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	good, stale := open("V1", "GA"), open("V2", "GB")
	mark := func(v store.Visit, msgid string) *store.VisitMark {
		return &store.VisitMark{VisitID: v.ID, Generation: v.Generation, DetailsVersion: v.DetailsVersion, Msgid: msgid, CertType: "02"}
	}
	staleMark := mark(stale, "m-2")
	staleMark.Generation++
	unknown := mark(good, "m-3")
	unknown.VisitID = "MD00000000000000000000000000ff"
	claims := []engine.Claim{
		groupClaim("v-1", "GA", "10.00"), // 0 settles good
		groupClaim("v-2", "GB", "20.00"), // 1 stale mark
		groupClaim("v-3", "GC", "30.00"), // 2 unknown visit
		groupClaim("v-4", "GA", "40.00"), // 3 good's visit again: settled by 0
		groupClaim("v-1", "GA", "10.00"), // 4 replay of 0
		groupClaim("v-5", "GC", "50.00"), // 5 plain Settle
	}
	marks := []*store.VisitMark{mark(good, "m-1"), staleMark, unknown, mark(good, "m-4"), mark(good, "m-5"), nil}
	computes := make([]store.ComputeFunc, len(claims))
	for i, c := range claims {
		computes[i] = chained(c)
	}
	_, _, failed0 := pgstore.GroupStats(st)
	sts, errs := pgstore.SettleVisitsAsGroup(ctx, st, claims, computes, marks)
	if _, _, failed := pgstore.GroupStats(st); failed != failed0 {
		t.Fatalf("the group failed as a whole")
	}
	want := map[int]error{1: store.ErrVisitNotOpen, 2: store.ErrNotFound, 3: store.ErrVisitNotOpen}
	for i := range claims {
		if w := want[i]; w != nil {
			if !errors.Is(errs[i], w) {
				t.Errorf("claim %d: %v, want %v", i, errs[i], w)
			}
		} else if errs[i] != nil {
			t.Errorf("claim %d: %v", i, errs[i])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if sts[4].ID != sts[0].ID {
		t.Errorf("replay answered %s, want %s", sts[4].ID, sts[0].ID)
	}
	v, err := st.GetVisit(ctx, good.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.State != store.VisitSettled || v.SettlementID != sts[0].ID || v.SettleMsgid != "m-1" || v.SettleCertType != "02" || v.SettledAt.IsZero() {
		t.Errorf("good visit: %+v", v)
	}
	var recorded bool
	if err := pgstore.QueryRow(ctx, st, `SELECT settled_at = $2 FROM {s}.settlements WHERE settlement_id = $1`, sts[0].ID, v.SettledAt).Scan(&recorded); err != nil || !recorded {
		t.Errorf("the settlement's settled_at is not the visit's %v (%v)", v.SettledAt, err)
	}
	if v, err := st.GetVisit(ctx, stale.ID); err != nil || v.State != store.VisitOpen {
		t.Errorf("stale visit: %+v, %v", v, err)
	}
	// The refused claims wrote nothing: GB and GC have no stay but GC's
	// plain one, and their request ids are free.
	for id, n := range map[string]int{"GA": 1, "GB": 0, "GC": 1} {
		py, err := st.Snapshot(ctx, id, "GH", 2026)
		if err != nil || py.Accumulators.InpatientCount != n {
			t.Errorf("%s: %d stays (%v), want %d", id, py.Accumulators.InpatientCount, err, n)
		}
	}
	for _, i := range []int{1, 2, 3} {
		if got, err := st.Settle(ctx, claims[i], chained(claims[i])); err != nil || got.ID == sts[0].ID {
			t.Errorf("claim %d's request id, sent again: %s, %v", i, got.ID, err)
		}
	}
}

// TestGroupFailureSettlesVisitsOneByOne fails a group holding SettleVisit
// calls as a whole: nothing of it stays, and each call settles by itself
// (settleOne with its mark): the good one settles its visit, the stale
// mark and the second request for the same visit are refused.
func TestGroupFailureSettlesVisitsOneByOne(t *testing.T) {
	ctx := context.Background()
	st := groupFixture(t, pgstore.Options{})
	pgstore.FailGroups(st, func() error { return errors.New("injected: serialization failure") })
	open := func(number, person string) store.Visit {
		v, err := st.OpenVisit(ctx, store.Visit{InstitutionID: "GH", PersonID: person, Kind: store.VisitKindInpatient, Number: number,
			Scheme: engine.SchemeEmployee, MedType: "21", Begin: "2026-03-01 08:00:00"})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	good, other := open("F1", "GA"), open("F2", "GB")
	goodMark := &store.VisitMark{VisitID: good.ID, Msgid: "m-1", CertType: "02"}
	staleMark := &store.VisitMark{VisitID: other.ID, DetailsVersion: other.DetailsVersion + 1, Msgid: "m-2"}
	claims := []engine.Claim{groupClaim("f-1", "GA", "10.00"), groupClaim("f-2", "GB", "20.00"), groupClaim("f-3", "GA", "30.00")}
	computes := []store.ComputeFunc{chained(claims[0]), chained(claims[1]), chained(claims[2])}
	sts, errs := pgstore.SettleVisitsAsGroup(ctx, st, claims, computes, []*store.VisitMark{goodMark, staleMark, goodMark})
	if _, _, failed := pgstore.GroupStats(st); failed != 1 {
		t.Fatalf("%d groups failed, want 1", failed)
	}
	if errs[0] != nil || !errors.Is(errs[1], store.ErrVisitNotOpen) || !errors.Is(errs[2], store.ErrVisitNotOpen) {
		t.Fatalf("answers after the fallback: %v", errs)
	}
	v, err := st.GetVisit(ctx, good.ID)
	if err != nil || v.State != store.VisitSettled || v.SettlementID != sts[0].ID || v.SettleMsgid != "m-1" || v.SettledAt.IsZero() {
		t.Errorf("good visit after the fallback: %+v, %v", v, err)
	}
	if v, err := st.GetVisit(ctx, other.ID); err != nil || v.State != store.VisitOpen {
		t.Errorf("stale visit after the fallback: %+v, %v", v, err)
	}
	for id, n := range map[string]int{"GA": 1, "GB": 0} {
		py, err := st.Snapshot(ctx, id, "GH", 2026)
		if err != nil || py.Accumulators.InpatientCount != n {
			t.Errorf("%s: %d stays (%v), want %d", id, py.Accumulators.InpatientCount, err, n)
		}
	}
}
