package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
	"github.com/medsettle/medsettle/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open returns a store in a fresh schema of the test database.
func open(t testing.TB) *pgstore.Store { return openBatch(t, 0) }

// openBatch is open with Options.MaxBatch maxBatch (1: no group commit).
func openBatch(t testing.TB, maxBatch int) *pgstore.Store {
	t.Helper()
	url := pgtest.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: pgtest.Schema(t, url), MaxConns: 40, MaxBatch: maxBatch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// TestConformanceNoGroup runs the suite with group commit off
// (--pg-max-batch 1): every settlement, upload and audit append in a
// transaction of its own, the path a failed group also falls back to.
func TestConformanceNoGroup(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openBatch(t, 1) })
}
