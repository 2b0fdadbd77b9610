package national

import (
	"testing"

	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// TestMain gives the package's tests a PostgreSQL (pgtest): the one
// MEDSETTLE_TEST_DATABASE_URL names, or a throwaway cluster.
func TestMain(m *testing.M) { pgtest.Main(m) }
