package pgstore

import (
	"errors"
	"reflect"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// TestAccMemo: the memo answers what decodeAccumulators answers, for a
// document it wrote, one it read, one that changed since, and one that
// decoding refuses (never remembered); what it hands out is a copy.
func TestAccMemo(t *testing.T) {
	var m accMemo
	want := goldenAccumulators()
	doc, err := m.encode(want)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := decodeAccumulators(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.decode(want.PersonID, want.Year, doc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, plain) {
		t.Fatalf("memo of a written document: %+v, decoding gives %+v", got, plain)
	}
	for k := range got.PoolUsed {
		got.PoolUsed[k] = engine.Yuan(999)
	}
	if again, _ := m.decode(want.PersonID, want.Year, doc); !reflect.DeepEqual(again, plain) {
		t.Fatalf("a caller's change reached the memo: %+v", again)
	}
	// A document another writer stored (different bytes) is decoded.
	changed := want.Clone()
	changed.InpatientCount++
	other, err := encodeAccumulators(changed)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.decode(want.PersonID, want.Year, other); err != nil || !reflect.DeepEqual(got, mustDecode(t, other)) {
		t.Fatalf("a changed document: %+v, %v", got, err)
	}
	// Accumulators decoding refuses are not remembered when written.
	bad := want.Clone()
	bad.AidPaid = engine.Yuan(-1)
	badDoc, err := m.encode(bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.decode(want.PersonID, want.Year, badDoc); !errors.Is(err, engine.ErrInvariant) {
		t.Fatalf("a document decoding refuses: %v, want engine.ErrInvariant", err)
	}
}

func mustDecode(t *testing.T, doc []byte) engine.Accumulators {
	t.Helper()
	a, err := decodeAccumulators(doc)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
