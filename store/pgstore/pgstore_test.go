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
func open(t testing.TB) *pgstore.Store {
	t.Helper()
	url := pgtest.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: pgtest.Schema(t, url), MaxConns: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}
