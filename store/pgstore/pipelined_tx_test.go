package pgstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
)

// TestPipelinedGroupFailsInItsLastBatch fails a group in the batch that
// carries its COMMIT (a statement queued before it fails, so PostgreSQL
// skips the COMMIT): nothing of the group stays, each claim settles by
// itself, and the store's only connection is rolled back and reused (the
// same backend, idle, its lock_timeout back to the default), not left in a
// failed transaction nor thrown away.
func TestPipelinedGroupFailsInItsLastBatch(t *testing.T) {
	ctx := context.Background()
	st := groupFixture(t, pgstore.Options{MaxConns: 1})
	pid, _, _, err := pgstore.ConnState(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	pgstore.ProbeGroupCommits(st, "SELECT 1/0")
	claims := []engine.Claim{groupClaim("p-1", "GA", "10"), groupClaim("p-2", "GB", "5"), groupClaim("p-3", "GA", "3")}
	sts, errs := pgstore.SettleAsGroup(ctx, st, claims, []store.ComputeFunc{chained(claims[0]), chained(claims[1]), chained(claims[2])})
	if _, _, failed := pgstore.GroupStats(st); failed != 1 {
		t.Fatalf("%d groups failed, want 1", failed)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("claim %d after the fallback: %v", i, err)
		}
	}
	if got := sts[0].Result.Breakdown.Total.Add(sts[2].Result.Breakdown.Total).String(); got != "14.00" {
		t.Errorf("GA's claims of 10 and 3: totals %s and %s, want 14 together (each settled once, one counting the other)",
			sts[0].Result.Breakdown.Total, sts[2].Result.Breakdown.Total)
	}
	a, err := st.Snapshot(ctx, "GA", "GH", 2026)
	if err != nil {
		t.Fatal(err)
	}
	if a.Accumulators.InpatientCount != 2 || a.BudgetUsed.String() != "16.00" {
		t.Errorf("after the fallback: GA's count %d, GH's budget used %s; want 2 and 16 (the failed group left nothing)",
			a.Accumulators.InpatientCount, a.BudgetUsed)
	}
	got, status, timeout, err := pgstore.ConnState(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if got != pid || status != 'I' || timeout != "0" {
		t.Errorf("the connection after the failed group: backend %d (was %d), status %q, lock_timeout %q; want the same backend, idle, 0",
			got, pid, status, timeout)
	}

	// A group that commits leaves its settings behind with its transaction.
	pgstore.ProbeGroupCommits(st, "")
	c := groupClaim("p-4", "GB", "1")
	if _, errs := pgstore.SettleAsGroup(ctx, st, []engine.Claim{c}, []store.ComputeFunc{chained(c)}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if got, status, timeout, err := pgstore.ConnState(ctx, st); err != nil || got != pid || status != 'I' || timeout != "0" {
		t.Errorf("the connection after a group: backend %d (was %d), status %q, lock_timeout %q, %v; want the same backend, idle, 0",
			got, pid, status, timeout, err)
	}
}

// TestPipelinedSnapshotOfUnknownPerson: a Snapshot that finds no person
// answers ErrNotFound and leaves its connection idle for the next one.
func TestPipelinedSnapshotOfUnknownPerson(t *testing.T) {
	ctx := context.Background()
	st := groupFixture(t, pgstore.Options{MaxConns: 1})
	pid, _, _, err := pgstore.ConnState(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Snapshot(ctx, "NOBODY", "GH", 2026); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Snapshot of an unknown person: %v, want ErrNotFound", err)
	}
	a, err := st.Snapshot(ctx, "GC", "GH", 2026)
	if err != nil {
		t.Fatal(err)
	}
	if a.Person.AccountBalance.String() != "5.00" {
		t.Errorf("GC's balance %s, want 5.00", a.Person.AccountBalance)
	}
	if got, status, _, err := pgstore.ConnState(ctx, st); err != nil || got != pid || status != 'I' {
		t.Errorf("the connection: backend %d (was %d), status %q, %v; want the same backend, idle", got, pid, status, err)
	}
}
