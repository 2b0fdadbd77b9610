package store_test

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medsettle/medsettle/store"
)

// TestSettlementIDs checks the ids' form (prefix, a version 7 UUID), that
// they are increasing as made and sort after the sequential ids of earlier
// versions, and that their random part differs from one to the next.
func TestSettlementIDs(t *testing.T) {
	const n = 10000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = store.NewSettlementID()
	}
	seen := map[string]bool{}
	for i, id := range ids {
		hexPart, ok := strings.CutPrefix(id, store.SettlementIDPrefix)
		raw, err := hex.DecodeString(hexPart)
		if !ok || err != nil || len(raw) != 16 {
			t.Fatalf("id %q is not %q and 32 hex digits", id, store.SettlementIDPrefix)
		}
		u, err := uuid.FromBytes(raw)
		if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("id %q: not a version 7 UUID (%v)", id, err)
		}
		if d := time.Since(time.Unix(u.Time().UnixTime())); d < -time.Second || d > time.Minute {
			t.Errorf("id %q carries a time %v away", id, d)
		}
		if seen[id] {
			t.Fatalf("id %q made twice", id)
		}
		seen[id] = true
		if i > 0 && id <= ids[i-1] {
			t.Errorf("id %q made after %q sorts before it", id, ids[i-1])
		}
		if id <= "ST009999999999" {
			t.Errorf("id %q does not sort after the sequential ids of earlier versions", id)
		}
	}
	// Two ids made in the same millisecond share their time, not their
	// random part (the last 62 bits).
	a, b := ids[n-2][2+16:], ids[n-1][2+16:]
	if a == b {
		t.Errorf("consecutive ids share their random part %s", a)
	}
	if len(ids[0]) != 34 {
		t.Errorf("id %q of %d characters", ids[0], len(ids[0]))
	}
}
