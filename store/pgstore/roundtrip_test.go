package pgstore_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
)

// tripCounter counts round trips while on: a statement by itself, or a
// pipelined batch.
type tripCounter struct {
	mu    sync.Mutex
	on    bool
	trips int
}

func (c *tripCounter) count(f func()) int {
	c.mu.Lock()
	c.on, c.trips = true, 0
	c.mu.Unlock()
	f()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = false
	return c.trips
}

func (c *tripCounter) add() {
	c.mu.Lock()
	if c.on {
		c.trips++
	}
	c.mu.Unlock()
}

func (c *tripCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if !background(d.SQL) {
		c.add()
	}
	return ctx
}
func (c *tripCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *tripCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.add()
	return ctx
}
func (c *tripCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *tripCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// background reports whether sql is a statement the store sends of its
// own accord, not for the call being counted: a new connection's setting
// up (AfterConnect) or the policy cache's LISTEN, which starts on a
// connection of its own whenever that connection is (re)made.
func background(sql string) bool {
	return strings.Contains(sql, "'search_path'") || strings.HasPrefix(sql, "LISTEN ")
}

// TestGroupRoundTrips: a settlement group without a budget to read back
// is two round trips (its writes go with the insert and the COMMIT), one
// with a budget three; both commit what they computed.
func TestGroupRoundTrips(t *testing.T) {
	ctx := context.Background()
	tc := &tripCounter{}
	st := groupFixture(t, pgstore.Options{Tracer: tc})
	noBudget := func(c engine.Claim) store.ComputeFunc {
		return func(py store.PersonYear) (engine.Result, error) {
			r, err := chained(c)(py)
			r.BudgetLimit = nil
			return r, err
		}
	}
	for _, c := range []struct {
		claim   engine.Claim
		compute func(engine.Claim) store.ComputeFunc
		trips   int
	}{
		{groupClaim("rt-1", "GA", "10.00"), noBudget, 2},
		{groupClaim("rt-2", "GA", "11.00"), chained, 3},
		{groupClaim("rt-3", "GC", "12.00"), noBudget, 2},
	} {
		var got engine.Settlement
		var err error
		if n := tc.count(func() { got, err = st.Settle(ctx, c.claim, c.compute(c.claim)) }); err != nil || n != c.trips {
			t.Fatalf("%s: %d round trips (%v), want %d", c.claim.RequestID, n, err, c.trips)
		}
		read, err := st.GetSettlement(ctx, got.ID)
		if err != nil || !reflect.DeepEqual(read.Result.Breakdown, got.Result.Breakdown) {
			t.Fatalf("%s: stored %+v (%v), answered %+v", c.claim.RequestID, read.Result.Breakdown, err, got.Result.Breakdown)
		}
		snap, err := st.Snapshot(ctx, c.claim.PersonID, "GH", 2026)
		if err != nil || snap.Accumulators.InpatientCount == 0 {
			t.Fatalf("%s: the person-year was not written: %+v %v", c.claim.RequestID, snap.Accumulators, err)
		}
	}
}

// TestVisitDetailsPerson: one round trip reads what VisitDetails and then
// GetPerson read; an unknown person is the person's error alone, an
// unknown visit the call's.
func TestVisitDetailsPerson(t *testing.T) {
	ctx := context.Background()
	tc := &tripCounter{}
	st := groupFixture(t, pgstore.Options{Tracer: tc})
	v, err := st.OpenVisit(ctx, store.Visit{InstitutionID: "GH", PersonID: "GA", Kind: store.VisitKindInpatient, Number: "VDP",
		Scheme: engine.SchemeEmployee, MedType: "21", Begin: "2026-03-01 08:00:00"})
	if err != nil {
		t.Fatal(err)
	}
	line := store.FeeDetail{SN: "1", Code: "A", Name: "A", Quantity: engine.QuantityOf(2), UnitPrice: engine.MustPrice("3.5"),
		Amount: engine.MustMoney("7.00"), FeeTime: "2026-03-01 09:00:00", MedType: "21"}
	if err := st.PutFeeDetails(ctx, v.ID, []store.FeeDetail{line}); err != nil {
		t.Fatal(err)
	}
	wantV, wantD, err := st.VisitDetails(ctx, v.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	wantP, err := st.GetPerson(ctx, "GA")
	if err != nil {
		t.Fatal(err)
	}
	var gotV store.Visit
	var gotD []store.FeeDetail
	var gotP engine.Person
	var perr error
	if n := tc.count(func() { gotV, gotD, gotP, perr, err = st.VisitDetailsPerson(ctx, v.ID, "", "GA") }); n != 1 {
		t.Errorf("%d round trips, want 1", n)
	}
	if err != nil || perr != nil || !reflect.DeepEqual(gotV, wantV) || !reflect.DeepEqual(gotD, wantD) || !reflect.DeepEqual(gotP, wantP) {
		t.Fatalf("read %+v %+v %+v (%v, %v)\nwant %+v %+v %+v", gotV, gotD, gotP, perr, err, wantV, wantD, wantP)
	}
	gotV, gotD, _, perr, err = st.VisitDetailsPerson(ctx, v.ID, "", "NOBODY")
	if err != nil || !errors.Is(perr, store.ErrNotFound) || !reflect.DeepEqual(gotV, wantV) || !reflect.DeepEqual(gotD, wantD) {
		t.Fatalf("an unknown person: %+v %+v (%v, %v)", gotV, gotD, perr, err)
	}
	if _, _, _, _, err = st.VisitDetailsPerson(ctx, "MD00000000000000000000000000ff", "", "GA"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown visit: %v", err)
	}
}
