// Package pgtest gives tests a real PostgreSQL: the one named by
// MEDSETTLE_TEST_DATABASE_URL, or else a throwaway cluster started with
// initdb and pg_ctl (as the postgres user when running as root) and removed
// afterwards. Under CI=true a database that cannot be had fails the tests;
// elsewhere they are skipped with the reason.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/medsettle/medsettle/store/pgstore/pgcluster"
)

// EnvURL names the variable that points tests at an existing database.
const EnvURL = "MEDSETTLE_TEST_DATABASE_URL"

var (
	mu       sync.Mutex
	mainRan  bool
	shared   *Cluster
	setupErr error
)

// Main runs a package's tests with a database available to URL; call it
// from TestMain. The throwaway cluster is started by the first test that
// asks for it, and removed when the tests end.
func Main(m *testing.M) {
	mu.Lock()
	mainRan = true
	mu.Unlock()
	code := m.Run()
	mu.Lock()
	if shared != nil {
		shared.Stop()
	}
	mu.Unlock()
	os.Exit(code)
}

// Unavailable fails the test under CI and skips it elsewhere.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("no PostgreSQL for this test: %v (set %s, or install PostgreSQL so that initdb and pg_ctl are found)", err, EnvURL)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// URL returns the database URL for the package's tests:
// MEDSETTLE_TEST_DATABASE_URL, or the package's throwaway cluster.
func URL(t testing.TB) string {
	t.Helper()
	if url := os.Getenv(EnvURL); url != "" {
		return url
	}
	mu.Lock()
	defer mu.Unlock()
	if !mainRan {
		Unavailable(t, fmt.Errorf("pgtest.Main was not called from TestMain"))
	}
	if shared == nil && setupErr == nil {
		shared, setupErr = Start()
	}
	if setupErr != nil {
		Unavailable(t, setupErr)
	}
	return shared.URL
}

// Schema returns a new schema name, unique to this test, and drops the
// schema when the test ends.
func Schema(t testing.TB, url string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Logf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// Cluster is a throwaway PostgreSQL cluster.
type Cluster = pgcluster.Cluster

// Start creates and starts a cluster tuned for tests: fsync is off (the
// machine does not crash in a test), but commits stay synchronous, so a
// server killed with Restart loses nothing it acknowledged.
func Start() (*Cluster, error) {
	return pgcluster.Start(pgcluster.Options{MaxConnections: 300})
}
