package memstore

import (
	"fmt"
	"testing"

	"github.com/medsettle/medsettle/store"
)

// TestVisitCache: visits whose slots share a cache entry read back as
// themselves, and reading an open visit again allocates nothing.
func TestVisitCache(t *testing.T) {
	var b visitBook
	var want []store.Visit
	for i := range visitCacheSize + 2 {
		v := testVisit()
		v.ID, v.Number, v.SettlementID = fmt.Sprintf("V%d", i), fmt.Sprintf("N%d", i), ""
		b.add(&v, visitNumber{v.InstitutionID, v.Kind, v.Number})
		want = append(want, v)
	}
	for range 2 {
		for _, slot := range []uint32{0, visitCacheSize, 1, visitCacheSize + 1, 0, 1, 2} {
			if got, err := b.load(slot); err != nil || got != want[slot] {
				t.Fatalf("slot %d reads %+v, %v; want %+v", slot, got, err, want[slot])
			}
		}
	}
	v := testVisit()
	v.ID, v.Number, v.SettlementID, v.ReversedSettlementID, v.SettleMsgid, v.SettleCertType, v.Discharge = "VX", "NX", "", "", "", "", ""
	slot := b.add(&v, visitNumber{v.InstitutionID, v.Kind, v.Number})
	if _, err := b.load(slot); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = b.load(slot) }); n != 0 {
		t.Errorf("reading an open visit again allocates %v times", n)
	}
}
