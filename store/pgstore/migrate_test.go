package pgstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// TestServersStartingAtOnceMigrateOnce opens eight stores on one fresh
// schema at the same time: every one starts, and each migration is
// recorded once.
func TestServersStartingAtOnceMigrateOnce(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema, MaxConns: 2})
			if err != nil {
				errs <- err
				return
			}
			st.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, distinct int
	err = conn.QueryRow(ctx, "SELECT count(*), count(DISTINCT version) FROM "+pgx.Identifier{schema, "medsettle_migrations"}.Sanitize()).Scan(&n, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != distinct {
		t.Errorf("%d migration rows for %d versions", n, distinct)
	}
}

// TestEmptySearchPath checks that the store's connections have no
// search_path: a query that forgot its schema fails instead of finding a
// table of another schema.
func TestEmptySearchPath(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	ctx := context.Background()
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var path string
	if err := st.Pool().QueryRow(ctx, "SHOW search_path").Scan(&path); err != nil {
		t.Fatal(err)
	}
	if path != `""` && path != "" {
		t.Errorf("search_path is %q", path)
	}
	if _, err := st.Pool().Exec(ctx, "SELECT 1 FROM persons"); err == nil {
		t.Error("an unqualified table name resolved")
	}
}

// TestPolicyCacheFollowsOtherServers puts a policy through one store and
// sees it from another store on the same schema, as two servers would.
func TestPolicyCacheFollowsOtherServers(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	ctx := context.Background()
	a, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, err := b.Policies(ctx, "", engine.SchemeUnspecified); err != nil || len(got) != 0 {
		t.Fatalf("fresh schema lists %d policies (%v)", len(got), err)
	}
	p := &engine.Policy{
		Region: "999999", Scheme: engine.SchemeResident, Version: "v1",
		EffectiveFrom: engine.Date{Year: 2026, Month: 1, Day: 1}, EffectiveTo: engine.Date{Year: 2026, Month: 12, Day: 31},
		Benefits: []engine.Benefit{{VisitType: engine.VisitInpatient, Accumulation: engine.AccumulationPerVisit,
			Rates: []engine.RateRow{{Level: 1, Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: engine.MustRatio("0.5")}}}}}}},
	}
	if err := engine.ValidatePolicy(p); err != nil {
		t.Fatal(err)
	}
	if err := a.PutPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := b.Policies(ctx, "999999", engine.SchemeResident)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 && got[0].Version == "v1" && got[0].Benefits[0].Rates[0].Schedule.Bands[0].Ratio.Equal(engine.MustRatio("0.5")) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other server still sees %d policies", len(got))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOpenRefusesANewerSchema: a schema a newer build migrated (a
// migration this build does not know) is refused at Open, naming both
// versions, rather than served with writes that would not keep the newer
// schema's invariants.
func TestOpenRefusesANewerSchema(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	table := pgx.Identifier{schema, "medsettle_migrations"}.Sanitize()
	if _, err := conn.Exec(ctx, "INSERT INTO "+table+" (version, name, applied_at) SELECT max(version) + 1, 'from_the_future.sql', now() FROM "+table); err != nil {
		t.Fatal(err)
	}
	var future int
	if err := conn.QueryRow(ctx, "SELECT max(version) FROM "+table).Scan(&future); err != nil {
		t.Fatal(err)
	}
	st, err = pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err == nil {
		st.Close()
		t.Fatal("a schema migrated by a newer build was opened")
	}
	if want := fmt.Sprintf("at migration %d, newer than this build's %d", future, future-1); !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
}
