package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// detailsFixture is groupFixture's store, with a connection of its own to
// read the visits' counters, and n OPEN visits of GA at GH (ids MD-00,
// MD-01, …).
func detailsFixture(t *testing.T, opts pgstore.Options, n int) (*pgstore.Store, *pgx.Conn, []string) {
	t.Helper()
	st := groupFixture(t, opts)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	ids := make([]string, n)
	for i := range ids {
		v, err := st.OpenVisit(ctx, store.Visit{ID: fmt.Sprintf("MD-%02d", i), InstitutionID: "GH", PersonID: "GA",
			Kind: store.VisitKindOutpatient, Number: fmt.Sprintf("MZ-%02d", i), Scheme: engine.SchemeEmployee, MedType: "11",
			Begin: "2026-03-01 09:00:00"})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = v.ID
	}
	return st, conn, ids
}

// feeLine is a line of visit id whose figures depend on k: quantity k/3,
// unit price 1.234567 + k µ, amount their product rounded.
func feeLine(id, sn string, k int) store.FeeDetail {
	q := engine.MustQuantity(fmt.Sprintf("%d.%04d", k/3, (k%3)*3333))
	p := engine.MustPrice(fmt.Sprintf("1.%06d", 234567+k))
	return store.FeeDetail{VisitID: id, SN: sn, Batch: fmt.Sprint("B", k%2), Code: "C" + sn, Name: "药 " + sn,
		Quantity: q, UnitPrice: p, Amount: engine.MustMoney(fmt.Sprintf("%d.%02d", k, k%100)),
		FeeTime: "2026-03-01 10:00:00", MedType: "11"}
}

// counters reads a visit's detail_rows and details_version.
func counters(t *testing.T, conn *pgx.Conn, st *pgstore.Store, id string) (rows int, version int64) {
	t.Helper()
	q := fmt.Sprintf("SELECT detail_rows, details_version FROM %s.visits WHERE visit_id = $1", pgx.Identifier{st.Schema()}.Sanitize())
	if err := conn.QueryRow(context.Background(), q, id).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	return rows, version
}

// wantLines fails unless visit id's live lines are want, in order.
func wantLines(t *testing.T, st *pgstore.Store, id string, want []store.FeeDetail) {
	t.Helper()
	got, err := st.FeeDetails(context.Background(), id, "")
	if err != nil {
		t.Fatal(err)
	}
	if (len(got) > 0 || len(want) > 0) && !reflect.DeepEqual(got, want) {
		t.Errorf("visit %s: lines\n%v\nwant\n%v", id, got, want)
	}
}

// TestDetailGroupsShareTransactions uploads to 64 visits at once, twice
// each: every upload lands with its exact figures, in fewer transactions
// than uploads.
func TestDetailGroupsShareTransactions(t *testing.T) {
	const n = 64
	st, conn, ids := detailsFixture(t, pgstore.Options{}, n)
	ctx := context.Background()
	groups0, grouped0, _ := pgstore.DetailGroupStats(st)
	lines := func(g, round int) []store.FeeDetail {
		var out []store.FeeDetail
		for k := range 6 {
			out = append(out, feeLine(ids[g], fmt.Sprintf("%d-%d", round, k), g*6+k))
		}
		return out
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range n {
		wg.Go(func() {
			<-start
			for round := range 2 {
				if err := st.PutFeeDetails(ctx, ids[g], lines(g, round)); err != nil {
					errs[g] = err
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for g, err := range errs {
		if err != nil {
			t.Errorf("upload %d: %v", g, err)
		}
	}
	for g, id := range ids {
		wantLines(t, st, id, append(lines(g, 0), lines(g, 1)...))
		if rows, version := counters(t, conn, st, id); rows != 12 || version != 2 {
			t.Errorf("visit %s: detail_rows %d, details_version %d; want 12, 2", id, rows, version)
		}
	}
	groups, grouped, failed := pgstore.DetailGroupStats(st)
	groups, grouped = groups-groups0, grouped-grouped0
	t.Logf("%d uploads in %d group transactions, %d failed", grouped, groups, failed)
	if grouped != 2*n || groups >= 2*n || failed != 0 {
		t.Errorf("%d uploads in %d group transactions (%d failed); want %d in fewer, none failed", grouped, groups, failed, 2*n)
	}
}

// TestDetailGroupEachUploadAlone hands the group commit one group of
// uploads, good and bad, two of them to one visit after each other: each
// is answered as it would be alone, after its predecessors; the bad ones
// change nothing. Then the same group with the group's transaction
// failing: each upload, by itself, is answered the same.
func TestDetailGroupEachUploadAlone(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprint("fail=", fail), func(t *testing.T) {
			st, conn, ids := detailsFixture(t, pgstore.Options{}, 4)
			ctx := context.Background()
			v0, v1, v2, v3 := ids[0], ids[1], ids[2], ids[3]
			// v1 holds one line; v2 is settled; v3 has room for one line.
			old := feeLine(v1, "old", 1)
			if err := st.PutFeeDetails(ctx, v1, []store.FeeDetail{old}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.MarkVisitSettled(ctx, v2, "ST-1"); err != nil {
				t.Fatal(err)
			}
			var full []store.FeeDetail
			for k := range store.MaxVisitDetails - 1 {
				full = append(full, feeLine(v3, fmt.Sprint("f", k), k))
			}
			if err := st.PutFeeDetails(ctx, v3, full); err != nil {
				t.Fatal(err)
			}
			a, b, c := feeLine(v0, "a", 1), feeLine(v0, "b", 2), feeLine(v0, "c", 3)
			aOther := a
			aOther.Amount = engine.MustMoney("99.99")
			oldOther := old
			oldOther.Name = "another"
			last, over := feeLine(v3, "last", 5), feeLine(v3, "over", 6)
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			uploads := []pgstore.DetailUpload{
				{Ctx: cancelled, VisitID: v0, Lines: []store.FeeDetail{a, b}},                    // 0: lands, its caller gone
				{Ctx: ctx, VisitID: v0, Lines: []store.FeeDetail{b, c}},                          // 1: sees 0's b: adds c
				{Ctx: ctx, VisitID: v0, Lines: []store.FeeDetail{aOther}},                        // 2: conflicts with 0's a
				{Ctx: ctx, VisitID: v1, Lines: []store.FeeDetail{feeLine(v1, "n", 4), oldOther}}, // 3: conflicts with the stored line
				{Ctx: ctx, VisitID: v2, Lines: []store.FeeDetail{feeLine(v2, "s", 1)}},           // 4: settled
				{Ctx: ctx, VisitID: "MD-NONE", Lines: []store.FeeDetail{a}},                      // 5: no such visit
				{Ctx: ctx, VisitID: v3, Lines: []store.FeeDetail{last}},                          // 6: the last room
				{Ctx: ctx, VisitID: v3, Lines: []store.FeeDetail{over}},                          // 7: no room after 6
				{Ctx: ctx, VisitID: v0, Lines: []store.FeeDetail{a, b, c}},                       // 8: a retry of 0 and 1
			}
			if fail {
				pgstore.FailDetailGroups(st, func() error { return errors.New("injected") })
				// Upload 0 by itself runs under its caller's context,
				// which is cancelled: give it a live one.
				uploads[0].Ctx = ctx
			}
			errs := pgstore.PutDetailsAsGroup(st, uploads)
			pgstore.FailDetailGroups(st, nil)
			check := func(i int, ok func(error) bool, want string) {
				t.Helper()
				if !ok(errs[i]) {
					t.Errorf("upload %d: %v, want %s", i, errs[i], want)
				}
			}
			isNil := func(err error) bool { return err == nil }
			conflictOn := func(sn string) func(error) bool {
				return func(err error) bool {
					var dc *store.DetailConflictError
					return errors.As(err, &dc) && reflect.DeepEqual(dc.SNs, []string{sn})
				}
			}
			is := func(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }
			noRoom := func(err error) bool {
				var ve *engine.ValidationError
				return errors.As(err, &ve) && ve.Has("lines")
			}
			check(0, isNil, "success")
			check(1, isNil, "success")
			check(2, conflictOn("a"), "a conflict on a")
			check(3, conflictOn("old"), "a conflict on old")
			check(4, is(store.ErrVisitNotOpen), "not open")
			check(5, is(store.ErrNotFound), "not found")
			check(6, isNil, "success")
			check(7, noRoom, "no room")
			check(8, isNil, "success (a retry)")

			wantLines(t, st, v0, []store.FeeDetail{a, b, c})
			wantLines(t, st, v1, []store.FeeDetail{old})
			wantLines(t, st, v2, nil)
			wantLines(t, st, v3, append(full, last))
			for _, w := range []struct {
				id            string
				rows, version int
			}{{v0, 3, 2}, {v1, 1, 1}, {v2, 0, 0}, {v3, store.MaxVisitDetails, 2}} {
				if rows, version := counters(t, conn, st, w.id); rows != w.rows || version != int64(w.version) {
					t.Errorf("visit %s: detail_rows %d, details_version %d; want %d, %d", w.id, rows, version, w.rows, w.version)
				}
			}
			if _, _, failed := pgstore.DetailGroupStats(st); (failed > 0) != fail {
				t.Errorf("%d groups failed as a whole", failed)
			}
		})
	}
}

// TestDetailGroupOff uploads with group commit off (MaxBatch 1): every
// upload is its own transaction, and no group runs.
func TestDetailGroupOff(t *testing.T) {
	st, conn, ids := detailsFixture(t, pgstore.Options{MaxBatch: 1}, 1)
	ctx := context.Background()
	a := feeLine(ids[0], "a", 1)
	for range 2 {
		if err := st.PutFeeDetails(ctx, ids[0], []store.FeeDetail{a}); err != nil {
			t.Fatal(err)
		}
	}
	wantLines(t, st, ids[0], []store.FeeDetail{a})
	if rows, version := counters(t, conn, st, ids[0]); rows != 1 || version != 1 {
		t.Errorf("detail_rows %d, details_version %d; want 1, 1", rows, version)
	}
	if groups, _, _ := pgstore.DetailGroupStats(st); groups != 0 {
		t.Errorf("%d groups ran with group commit off", groups)
	}
}

// BenchmarkPutFeeDetails uploads six new lines a call from 64 goroutines,
// each to a visit of its own, with fee-detail uploads group-committed
// and with group commit off (MaxBatch 1: a transaction, and a WAL flush,
// per upload).
func BenchmarkPutFeeDetails(b *testing.B) {
	for _, bc := range []struct {
		name     string
		maxBatch int
	}{{"group", 0}, {"off", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			st := benchDetailStore(b, pgstore.Options{MaxBatch: bc.maxBatch, MaxConns: 80})
			ctx := context.Background()
			var next atomic.Int64
			groups0, grouped0, _ := pgstore.DetailGroupStats(st)
			b.SetParallelism(64 / max(runtime.GOMAXPROCS(0), 1))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var id string
				uploads := 0
				for pb.Next() {
					if uploads%10 == 0 {
						// A new visit every ten uploads: a visit of the gateway holds a few.
						n := next.Add(1)
						v, err := st.OpenVisit(ctx, store.Visit{ID: fmt.Sprintf("MD-B%06d", n), InstitutionID: "GH", PersonID: "GA",
							Kind: store.VisitKindOutpatient, Number: fmt.Sprintf("MZ-B%06d", n), Scheme: engine.SchemeEmployee,
							MedType: "11", Begin: "2026-03-01 09:00:00"})
						if err != nil {
							b.Error(err)
							return
						}
						id = v.ID
					}
					lines := make([]store.FeeDetail, 6)
					for k := range lines {
						lines[k] = feeLine(id, fmt.Sprintf("%d-%d", uploads, k), k)
					}
					if err := st.PutFeeDetails(ctx, id, lines); err != nil {
						b.Error(err)
						return
					}
					uploads++
				}
			})
			groups, grouped, _ := pgstore.DetailGroupStats(st)
			if groups > groups0 {
				b.ReportMetric(float64(grouped-grouped0)/float64(groups-groups0), "uploads/tx")
			}
		})
	}
}

// benchDetailStore is a store with person GA.
func benchDetailStore(b *testing.B, opts pgstore.Options) *pgstore.Store {
	b.Helper()
	url := pgtest.URL(b)
	ctx := context.Background()
	opts.Schema = pgtest.Schema(b, url)
	st, err := pgstore.Open(ctx, url, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	p := engine.Person{ID: "GA", Name: "GA", Region: "R", Scheme: engine.SchemeEmployee, AccountBalance: engine.MustMoney("2.00")}
	if err := st.PutPerson(ctx, p); err != nil {
		b.Fatal(err)
	}
	return st
}
