package memstore

import (
	"testing"

	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/storetest"
)

// TestConformanceAllHashesCollide runs the store contract with every
// settlement id and every request key hashed to the same number, so that
// all but the first of each go through the overflow maps and every hit is
// told apart by the record it names.
func TestConformanceAllHashesCollide(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := New()
		s.recs.hashMask = 0
		return s
	})
}
