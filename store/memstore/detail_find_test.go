package memstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// oldAdd is detailLines.add as it was before addFresh: each body encoded
// apart and appended as a string. The judge of addFresh's encoding.
func oldAdd(l *detailLines, lines []store.FeeDetail) {
	for i := range lines {
		l.enc = appendString(l.enc, string(appendDetailBody(nil, &lines[i])))
		l.n++
	}
}

// oldLiveLines is liveLines as it was before it counted and shared one
// string: the judge of the rewrite.
func oldLiveLines(id string, l detailLines, batch string) ([]store.FeeDetail, error) {
	var out []store.FeeDetail
	var err error
	ok := l.each(func(body []byte) bool {
		_, dbatch, ok := detailKey(body)
		if !ok {
			err = errDetailCorrupt
			return false
		}
		if batch != "" && string(dbatch) != batch {
			return true
		}
		var d store.FeeDetail
		if d, err = decodeDetail(id, body); err != nil {
			return false
		}
		out = append(out, d)
		return true
	})
	if !ok && err == nil {
		err = errDetailCorrupt
	}
	if err != nil {
		return nil, fmt.Errorf("visit %q: %w", id, err)
	}
	return out, nil
}

// randomLine is a line of one of sns SNs and of one of two batches, its
// figures around the varint lengths' edges.
func randomLine(r *rand.Rand, sns int) store.FeeDetail {
	num := func() int64 {
		edges := []int64{0, 1, -1, 63, 64, -64, -65, 8191, 8192, 1 << 20, math.MaxInt64, math.MinInt64, r.Int64(), -r.Int64()}
		return edges[r.IntN(len(edges))]
	}
	words := []string{"", "x", "甲类药品", string(make([]byte, 127)), string(make([]byte, 128))}
	return store.FeeDetail{SN: fmt.Sprint(r.IntN(sns)), Batch: fmt.Sprint("B", r.IntN(2)), Code: words[r.IntN(len(words))],
		Name: words[r.IntN(len(words))], FeeTime: "2025-06-02 10:00:00", MedType: words[r.IntN(2)],
		Quantity: engine.QuantityFromScaled(num()), UnitPrice: engine.PriceFromScaled(num()), Amount: engine.MoneyFromFen(num())}
}

// TestAddFreshAsBefore: addFresh writes the bytes the former add wrote
// for the lines it is given, in their order, after what l holds, and
// counts them; detailBodyLen is the body's length.
func TestAddFreshAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		lines := make([]store.FeeDetail, r.IntN(12))
		for i := range lines {
			lines[i] = randomLine(r, 100)
			if n := detailBodyLen(&lines[i]); n != len(appendDetailBody(nil, &lines[i])) {
				t.Fatalf("detailBodyLen(%+v) = %d; the body has %d bytes", lines[i], n, len(appendDetailBody(nil, &lines[i])))
			}
		}
		var fresh []int
		var picked []store.FeeDetail
		for i := range lines {
			if r.IntN(3) > 0 {
				fresh = append(fresh, i)
				picked = append(picked, lines[i])
			}
		}
		var got, want detailLines
		prior := []store.FeeDetail{randomLine(r, 100)}
		if r.IntN(2) == 0 {
			oldAdd(&got, prior)
			oldAdd(&want, prior)
			got.enc = slices.Clip(got.enc)
		}
		got.addFresh(lines, fresh)
		oldAdd(&want, picked)
		if !slices.Equal(got.enc, want.enc) || got.n != want.n {
			t.Fatalf("addFresh(%v of %+v): %d lines %x; want %d lines %x", fresh, lines, got.n, got.enc, want.n, want.enc)
		}
	}
}

// TestAddFreshNeverWritesOverReadBytes: appending to lines whose bytes
// others may read (liveLines) writes only after them.
func TestAddFreshNeverWritesOverReadBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var l detailLines
	l.addFresh([]store.FeeDetail{randomLine(r, 9)}, []int{0})
	l.enc = slices.Grow(l.enc, 4096)
	read := l.enc
	before := slices.Clone(read)
	l.addFresh([]store.FeeDetail{randomLine(r, 9), randomLine(r, 9)}, []int{0, 1})
	if !slices.Equal(read, before) || !slices.Equal(l.enc[:len(before)], before) || l.n != 3 {
		t.Fatal("an append changed bytes written before it")
	}
}

// TestLiveLinesAsBefore compares liveLines with the implementation it
// replaced on random lines and batches: the same lines, nil when none,
// the same error on a corrupt encoding (cut anywhere, or a body cut).
func TestLiveLinesAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 3000 {
		var l detailLines
		for range r.IntN(10) {
			l.add([]store.FeeDetail{randomLine(r, 50)})
		}
		switch {
		case round%3 == 1 && len(l.enc) > 0:
			l.enc = l.enc[:r.IntN(len(l.enc))]
		case round%3 == 2:
			body := appendDetailBody(nil, ptr(randomLine(r, 50)))
			l.enc = appendString(l.enc, string(body[:r.IntN(len(body))]))
			l.n++
		}
		for _, batch := range []string{"", "B0", "B1", "B2"} {
			got, err := liveLines("V1", l, batch)
			want, wantErr := oldLiveLines("V1", l, batch)
			if !reflect.DeepEqual(got, want) || fmt.Sprint(err) != fmt.Sprint(wantErr) || !errors.Is(err, errDetailCorrupt) && wantErr != nil {
				t.Fatalf("round %d batch %q: %v, %v; want %v, %v", round, batch, got, err, want, wantErr)
			}
		}
	}
}

// ptr is a pointer to a copy of d.
func ptr(d store.FeeDetail) *store.FeeDetail { return &d }

// TestDetailFinderAsMap compares a detailFinder, scanning and indexing,
// with the map of every live line decoded by SN that PutFeeDetails used
// to build: the same line (VisitID the visit's) for every SN asked,
// present or not, the last line of an SN when one is there twice (which
// PutFeeDetails never stores); and a corrupt encoding refused at once.
func TestDetailFinderAsMap(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	indexed := map[bool]int{}
	for round := range 3000 {
		var l detailLines
		for range r.IntN(40) {
			l.add([]store.FeeDetail{randomLine(r, 30)})
		}
		uploaded := 1 + r.IntN(30)
		f, err := newDetailFinder("V1", l, uploaded)
		if err != nil {
			t.Fatal(err)
		}
		indexed[f.bySN != nil]++
		if (f.bySN != nil) != (l.n*uploaded > detailScanMax) {
			t.Fatalf("%d lines, %d uploaded: indexed %v", l.n, uploaded, f.bySN != nil)
		}
		decoded, err := oldLiveLines("V1", l, "")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]store.FeeDetail{}
		for _, d := range decoded {
			want[d.SN] = d
		}
		for sn := range 32 {
			got, ok := f.find(fmt.Sprint(sn))
			w, wok := want[fmt.Sprint(sn)]
			if ok != wok || got != w || f.err != nil {
				t.Fatalf("round %d: find(%d) = %+v, %v (%v); want %+v, %v", round, sn, got, ok, f.err, w, wok)
			}
		}
		if len(l.enc) > 0 {
			cut := l
			cut.enc = l.enc[:len(l.enc)-1-r.IntN(len(l.enc))]
			if _, err := newDetailFinder("V1", cut, uploaded); len(cut.enc) > 0 && !errors.Is(err, errDetailCorrupt) {
				if _, werr := oldLiveLines("V1", cut, ""); werr != nil {
					t.Fatalf("round %d: a cut encoding (%v) found lines: %v", round, werr, err)
				}
			}
		}
	}
	if indexed[true] < 300 || indexed[false] < 300 {
		t.Fatalf("finders indexed: %v; want both kinds", indexed)
	}
}

// TestPutFeeDetailsAsNewFeeDetails uploads random batches, with repeated
// and conflicting SNs, to visits with few and many live lines (so that
// the finder scans and indexes) and cancels some, checking each answer
// and the lines kept against store.NewFeeDetails on the lines read back.
func TestPutFeeDetailsAsNewFeeDetails(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(11, 12))
	s, vs := linesStore(t, 4)
	rows := map[string]int{} // lines given to each visit, besides linesStore's one
	for i := range 1500 {
		v := vs[i%len(vs)]
		sns := []int{4, 40, 300}[i%3]
		before, err := s.FeeDetails(ctx, v.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		live := map[string]store.FeeDetail{}
		for _, d := range before {
			live[d.SN] = d
		}
		lines := make([]store.FeeDetail, 1+r.IntN(20))
		for k := range lines {
			sn := fmt.Sprint(r.IntN(sns))
			if d, ok := live[sn]; ok && r.IntN(4) > 0 {
				lines[k] = d // the same content, or another:
				if r.IntN(8) == 0 {
					lines[k].Code += "!"
				}
				lines[k].VisitID = "ignored"
				continue
			}
			lines[k] = detailLine(sn)
			if r.IntN(8) == 0 {
				lines[k].Name += "?"
			}
		}
		fresh, wantErr := store.NewFeeDetails(v.ID, live, lines)
		if wantErr == nil {
			wantErr = store.CheckDetailRoom(v.ID, len(before), 1+rows[v.ID], len(fresh))
		}
		err = s.PutFeeDetails(ctx, v.ID, lines)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || reflect.TypeOf(err) != reflect.TypeOf(wantErr) {
			t.Fatalf("upload %d: %v; want %v", i, err, wantErr)
		}
		after, rerr := s.FeeDetails(ctx, v.ID, "")
		if rerr != nil {
			t.Fatal(rerr)
		}
		want := before
		if err == nil {
			want = append(slices.Clone(before), fresh...)
			rows[v.ID] += len(fresh)
		}
		if !reflect.DeepEqual(after, want) && !(len(after) == 0 && len(want) == 0) {
			t.Fatalf("upload %d (%v): lines %v; want %v", i, err, after, want)
		}
		if r.IntN(6) == 0 {
			if _, err := s.CancelFeeDetails(ctx, v.ID, "", fmt.Sprint(r.IntN(sns))); err != nil {
				t.Fatal(err)
			}
		}
		if len(after) > 150 {
			if _, err := s.CancelFeeDetails(ctx, v.ID, "", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
}
