package memstore

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// TestDetailCodecRoundTrip: encoded lines decode to what was added, in
// order, for random content (empty and multi-byte strings, extreme
// figures), and every field is kept (SameContent).
func TestDetailCodecRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	word := func() string {
		parts := []string{"", "x", "甲类药品", "A-01", strings.Repeat("长", 60)}
		return parts[rng.IntN(len(parts))] + parts[rng.IntN(len(parts))]
	}
	num := func() int64 {
		return []int64{0, 1, -1, 123456, math.MaxInt64, math.MinInt64, rng.Int64()}[rng.IntN(7)]
	}
	var l detailLines
	var want []store.FeeDetail
	for range 200 {
		d := store.FeeDetail{VisitID: "V1", SN: word(), Batch: word(), Code: word(), Name: word(), FeeTime: word(), MedType: word(),
			Quantity: engine.QuantityFromScaled(num()), UnitPrice: engine.PriceFromScaled(num()), Amount: engine.MoneyFromFen(num())}
		l.add([]store.FeeDetail{d})
		want = append(want, d)
	}
	got, err := liveLines("V1", l, "")
	if err != nil || len(got) != len(want) || l.n != len(want) {
		t.Fatalf("live: %d lines, %v; want %d", len(got), err, len(want))
	}
	for i := range want {
		if got[i] != want[i] || !got[i].SameContent(want[i]) {
			t.Fatalf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// A corrupt encoding is an error, never a wrong line.
	l.enc = l.enc[:len(l.enc)-1]
	if _, err := liveLines("V1", l, ""); err == nil {
		t.Fatal("a truncated encoding decoded")
	}
}

// TestDetailCodecCorruptKey: a line whose own SN or batch cannot be read
// is an error whatever the batch asked for, never a list cut short.
func TestDetailCodecCorruptKey(t *testing.T) {
	var l detailLines
	l.add([]store.FeeDetail{{VisitID: "V1", SN: "1", Batch: "B", Code: "A"}})
	l.enc = appendString(l.enc, "\xff") // a body whose SN's length is cut off
	l.n++
	l.add([]store.FeeDetail{{VisitID: "V1", SN: "2", Batch: "B", Code: "A"}})
	for _, batch := range []string{"", "B", "other"} {
		if got, err := liveLines("V1", l, batch); !errors.Is(err, engine.ErrInvariant) {
			t.Fatalf("batch %q: %d lines, %v; want engine.ErrInvariant", batch, len(got), err)
		}
	}
}

// add appends lines to l, in order (addFresh of them all).
func (l *detailLines) add(lines []store.FeeDetail) {
	all := make([]int, len(lines))
	for i := range all {
		all[i] = i
	}
	l.addFresh(lines, all)
}
