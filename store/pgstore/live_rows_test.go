package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// stmtCounter counts the statements sent while on (a batch's each), a
// new connection's setting up (AfterConnect) aside.
type stmtCounter struct {
	mu    sync.Mutex
	on    bool
	sent  []string
	trips int
}

func (c *stmtCounter) count(f func()) (statements, trips int, sent []string) {
	c.mu.Lock()
	c.on, c.sent, c.trips = true, nil, 0
	c.mu.Unlock()
	f()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = false
	return len(c.sent), c.trips, c.sent
}

func (c *stmtCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on && !background(d.SQL) {
		c.sent, c.trips = append(c.sent, d.SQL), c.trips+1
	}
	return ctx
}
func (c *stmtCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *stmtCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.trips++
		for _, q := range d.Batch.QueuedQueries {
			c.sent = append(c.sent, q.SQL)
		}
	}
	return ctx
}
func (c *stmtCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *stmtCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestDetailGroupStatements: an upload's group is six statements in two
// round trips: BEGIN, its settings, the visits' lock (with their row and
// live counts), the live lines of the SNs uploaded; the lines' INSERT
// with the visits' counts (one statement), COMMIT. It was eight: the live
// lines were counted apart, and the visits' counts were an UPDATE apart.
func TestDetailGroupStatements(t *testing.T) {
	sc := &stmtCounter{}
	st, _, ids := detailsFixture(t, pgstore.Options{Tracer: sc}, 2)
	ctx := context.Background()
	// Warm: the statements prepared on the connection.
	if err := st.PutFeeDetails(ctx, ids[0], []store.FeeDetail{feeLine(ids[0], "w", 1)}); err != nil {
		t.Fatal(err)
	}
	var err error
	n, trips, sent := sc.count(func() {
		err = st.PutFeeDetails(ctx, ids[1], []store.FeeDetail{feeLine(ids[1], "1", 1), feeLine(ids[1], "2", 2)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 || trips != 2 {
		t.Errorf("an upload group sent %d statements in %d round trips, want 6 in 2:\n%s", n, trips, strings.Join(sent, "\n"))
	}
}

// TestLiveRowsKeepTheCount: visits.live_rows is the count of a visit's
// lines not cancelled after every upload (grouped, alone), refused upload
// and cancellation.
func TestLiveRowsKeepTheCount(t *testing.T) {
	for _, c := range []struct {
		name string
		opts pgstore.Options
	}{{"grouped", pgstore.Options{}}, {"alone", pgstore.Options{MaxBatch: 1}}} {
		t.Run(c.name, func(t *testing.T) {
			st, conn, ids := detailsFixture(t, c.opts, 1)
			ctx := context.Background()
			id := ids[0]
			check := func(step string, want int) {
				t.Helper()
				var live, counted int
				q := fmt.Sprintf(`SELECT v.live_rows, (SELECT count(*) FROM %[1]s.fee_details d
					WHERE d.visit_id = v.visit_id AND d.cancelled_at IS NULL) FROM %[1]s.visits v WHERE v.visit_id = $1`,
					pgx.Identifier{st.Schema()}.Sanitize())
				if err := conn.QueryRow(ctx, q, id).Scan(&live, &counted); err != nil {
					t.Fatal(err)
				}
				if live != counted || live != want {
					t.Errorf("%s: live_rows %d, %d lines live; want %d", step, live, counted, want)
				}
			}
			put := func(lines ...store.FeeDetail) error { return st.PutFeeDetails(ctx, id, lines) }
			if err := put(feeLine(id, "1", 1), feeLine(id, "2", 2), feeLine(id, "3", 3)); err != nil {
				t.Fatal(err)
			}
			check("3 uploaded", 3)
			if err := put(feeLine(id, "1", 1)); err != nil {
				t.Fatal(err)
			}
			check("a retry", 3)
			var conflict *store.DetailConflictError
			if err := put(feeLine(id, "4", 4), feeLine(id, "1", 9)); !errors.As(err, &conflict) {
				t.Fatalf("a conflicting upload: %v", err)
			}
			check("a conflicting upload", 3)
			if n, err := st.CancelFeeDetails(ctx, id, "", "2"); err != nil || n != 1 {
				t.Fatalf("cancelled %d (%v)", n, err)
			}
			check("1 cancelled", 2)
			if err := put(feeLine(id, "2", 5), feeLine(id, "4", 4)); err != nil {
				t.Fatal(err)
			}
			check("2 more", 4)
			if n, err := st.CancelFeeDetails(ctx, id, "", ""); err != nil || n != 4 {
				t.Fatalf("cancelled %d (%v)", n, err)
			}
			check("all cancelled", 0)
		})
	}
}

// TestLiveRowsMigratesExistingVisits: migration 0012 applied to a
// database that already has visits (version 11: no live_rows) counts each
// visit's live lines, and the store then keeps the count: a visit with
// lines and a cancelled one, a visit whose every line was cancelled, a
// visit without lines.
func TestLiveRowsMigratesExistingVisits(t *testing.T) {
	st, conn, ids := detailsFixture(t, pgstore.Options{}, 3)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.PutFeeDetails(ctx, ids[0], []store.FeeDetail{feeLine(ids[0], "1", 1), feeLine(ids[0], "2", 2), feeLine(ids[0], "3", 3)}))
	if _, err := st.CancelFeeDetails(ctx, ids[0], "", "2"); err != nil {
		t.Fatal(err)
	}
	must(st.PutFeeDetails(ctx, ids[1], []store.FeeDetail{feeLine(ids[1], "1", 1)}))
	if _, err := st.CancelFeeDetails(ctx, ids[1], "", ""); err != nil {
		t.Fatal(err)
	}
	// Back to version 11, the visits and their lines kept.
	schema := pgx.Identifier{st.Schema()}.Sanitize()
	_, err := conn.Exec(ctx, `ALTER TABLE `+schema+`.visits DROP COLUMN live_rows;
		ALTER TABLE `+schema+`.visits RESET (fillfactor);
		DELETE FROM `+schema+`.medsettle_migrations WHERE version = 12`)
	must(err)

	again, err := pgstore.Open(ctx, pgtest.URL(t), pgstore.Options{Schema: st.Schema()})
	must(err)
	t.Cleanup(again.Close)
	live := func(step string, want ...int) {
		t.Helper()
		for i, id := range ids {
			var n int
			must(conn.QueryRow(ctx, `SELECT live_rows FROM `+schema+`.visits WHERE visit_id = $1`, id).Scan(&n))
			if n != want[i] {
				t.Errorf("%s: visit %s has live_rows %d, want %d", step, id, n, want[i])
			}
		}
	}
	live("migrated", 2, 0, 0)
	var fillfactor string
	must(conn.QueryRow(ctx, `SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = ($1 || '.visits')::regclass`, schema).Scan(&fillfactor))
	if fillfactor != "fillfactor=70" {
		t.Errorf("visits' options %q, want fillfactor=70", fillfactor)
	}
	// The store keeps the migrated counts: a cancellation, an upload.
	if n, err := again.CancelFeeDetails(ctx, ids[0], "", "1"); err != nil || n != 1 {
		t.Fatalf("cancelled %d (%v)", n, err)
	}
	must(again.PutFeeDetails(ctx, ids[2], []store.FeeDetail{feeLine(ids[2], "1", 1)}))
	must(again.PutFeeDetails(ctx, ids[1], []store.FeeDetail{feeLine(ids[1], "1", 1)}))
	live("after the store's own changes", 1, 1, 1)
}
