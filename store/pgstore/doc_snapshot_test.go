package pgstore

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestSnapshotReadsUnderOneSnapshot: Snapshot's reads (person,
// accumulators, budget usage, filings) run in one read-only REPEATABLE
// READ transaction, so that they all see the same commits; under READ
// COMMITTED each statement of the batch took its own snapshot, and a
// settlement committing between two of them was half seen.
func TestSnapshotReadsUnderOneSnapshot(t *testing.T) {
	if snapshotTx.IsoLevel != pgx.RepeatableRead && snapshotTx.IsoLevel != pgx.Serializable {
		t.Errorf("Snapshot reads at isolation %q, want repeatable read", snapshotTx.IsoLevel)
	}
	if snapshotTx.AccessMode != pgx.ReadOnly {
		t.Errorf("Snapshot's transaction is %q, want read only", snapshotTx.AccessMode)
	}
}
