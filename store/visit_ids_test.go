package store_test

import (
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medsettle/medsettle/store"
)

// TestVisitIDs checks the ids' form (prefix and 28 hex digits, 30
// characters: the national mdtrt_id field), that they carry the time they
// were made, that they increase as made, and that their random part
// differs from one to the next.
func TestVisitIDs(t *testing.T) {
	const n = 10000
	before := time.Now().UnixMilli()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = store.NewVisitID()
	}
	after := time.Now().UnixMilli()
	seen := map[string]bool{}
	randoms := map[string]bool{}
	for i, id := range ids {
		if store.MaxVisitIDLen != 30 || len(id) != 30 {
			t.Fatalf("id %q has %d characters, want 30", id, len(id))
		}
		hexPart, ok := strings.CutPrefix(id, store.VisitIDPrefix)
		if _, err := hex.DecodeString(hexPart); !ok || err != nil || strings.ToLower(hexPart) != hexPart {
			t.Fatalf("id %q is not %q and 28 lowercase hex digits", id, store.VisitIDPrefix)
		}
		ms, err := strconv.ParseInt(hexPart[:12], 16, 64)
		// uuid's version 7 stays monotonic by running its millisecond
		// ahead of the clock once more than 4,096 ids are made in one.
		if limit := after + n/4096 + 1; err != nil || ms < before || ms > limit {
			t.Fatalf("id %q carries the time %d ms, want within [%d, %d]", id, ms, before, limit)
		}
		if seen[id] {
			t.Fatalf("id %q made twice", id)
		}
		seen[id] = true
		if i > 0 && id <= ids[i-1] {
			t.Errorf("id %q made after %q sorts before it", id, ids[i-1])
		}
		// The last 13 digits are random: no two ids share them.
		if r := hexPart[15:]; randoms[r] {
			t.Errorf("id %q repeats the random part %s", id, r)
		} else {
			randoms[r] = true
		}
	}
	if strings.HasPrefix(ids[0], store.SettlementIDPrefix) {
		t.Errorf("visit id %q starts as a settlement id", ids[0])
	}
}
