package api

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/medsettle/medsettle/store"
)

// TestSettlementIDsAreUnguessable settles on both stores and checks the
// ids: the prefix and a version 7 UUID (time-ordered, 62 random bits), so
// that one id tells nothing of the next.
func TestSettlementIDsAreUnguessable(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			c := clearingServerOn(t, newStore(t, kind))
			c.institution("H1", clearingRegion, 3, "")
			c.person("P1", clearingRegion, employee)
			var ids []string
			for _, req := range []string{"id-1", "id-2", "id-3"} {
				ids = append(ids, c.settle(claimOf(req, "H1", "P1", inpatient, "2026-02-01", "G1", "100", "0")).GetSettlementId())
			}
			for i, id := range ids {
				hexPart, ok := strings.CutPrefix(id, store.SettlementIDPrefix)
				u, err := uuid.Parse(hexPart)
				if !ok || err != nil || len(hexPart) != 32 || u.Version() != 7 {
					t.Errorf("settlement id %q is not %q and a version 7 UUID in 32 hex digits", id, store.SettlementIDPrefix)
				}
				if i > 0 && (id <= ids[i-1] || id[len(id)-16:] == ids[i-1][len(id)-16:]) {
					t.Errorf("settlement ids %s then %s: not increasing, or the same random part", ids[i-1], id)
				}
			}
		})
	}
}
