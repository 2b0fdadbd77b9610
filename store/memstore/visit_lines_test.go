package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// linesStore is a store with person P1 and, for each of numbers, an open
// visit of P1 at H1 with one fee-detail line.
func linesStore(t *testing.T, numbers int) (*Store, []store.Visit) {
	t.Helper()
	ctx := context.Background()
	s := New()
	if err := s.PutPerson(ctx, engine.Person{ID: "P1", Region: "R1", Scheme: engine.SchemeEmployee}); err != nil {
		t.Fatal(err)
	}
	var vs []store.Visit
	for i := range numbers {
		v, err := s.OpenVisit(ctx, store.Visit{InstitutionID: "H1", PersonID: "P1", Kind: store.VisitKindInpatient,
			Number: fmt.Sprintf("IP%d", i), Scheme: engine.SchemeEmployee, MedType: "21", Begin: "2025-06-02 09:30:00"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PutFeeDetails(ctx, v.ID, []store.FeeDetail{detailLine("1")}); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return s, vs
}

// detailLine is a fee-detail line numbered sn.
func detailLine(sn string) store.FeeDetail {
	return store.FeeDetail{SN: sn, Code: "X" + sn, Name: "item " + sn, FeeTime: "2025-06-02 10:00:00", MedType: "21",
		Quantity: engine.QuantityOf(1), UnitPrice: engine.MustPrice("10"), Amount: engine.MustMoney("10")}
}

// TestVisitLinesFrozen: a visit's lines are in openLines while it is OPEN
// and they change, are frozen into the chunks when it is settled or
// cancelled, are read from there after a reopening until they change
// again, and frozen bytes never change.
func TestVisitLinesFrozen(t *testing.T) {
	ctx := context.Background()
	s, vs := linesStore(t, 1)
	b := &s.visits
	id := vs[0].ID
	slot, _ := b.slotOfID(id)
	sns := func(want ...string) {
		t.Helper()
		ds, err := s.FeeDetails(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range ds {
			got = append(got, d.SN)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("lines %v, want %v", got, want)
		}
	}
	open := func(want bool) {
		t.Helper()
		if _, ok := b.openLines[slot]; ok != want {
			t.Fatalf("lines in openLines: %v, want %v", ok, want)
		}
	}
	open(true)
	if _, err := s.MarkVisitSettled(ctx, id, "ST1"); err != nil {
		t.Fatal(err)
	}
	open(false)
	sns("1")
	frozen := bytes.Clone(b.bytes(b.slots.at(slot).details))
	if _, err := s.ReopenVisit(ctx, id, "ST1"); err != nil {
		t.Fatal(err)
	}
	open(false)
	sns("1")
	if err := s.PutFeeDetails(ctx, id, []store.FeeDetail{detailLine("2")}); err != nil {
		t.Fatal(err)
	}
	open(true)
	sns("1", "2")
	if n, err := s.CancelFeeDetails(ctx, id, "", "1"); n != 1 || err != nil {
		t.Fatalf("CancelFeeDetails: %d, %v", n, err)
	}
	sns("2")
	if !bytes.Equal(frozen, b.bytes(b.slots.at(slot).details)) {
		t.Fatal("frozen lines changed")
	}
	if _, err := s.CancelVisit(ctx, id); err != nil {
		t.Fatal(err)
	}
	open(false)
	sns("2")
}

// TestVisitLinesShrink: once most visits with lines that changed are
// settled, openLines is made anew at its size.
func TestVisitLinesShrink(t *testing.T) {
	ctx := context.Background()
	s, vs := linesStore(t, openLinesShrink+100)
	b := &s.visits
	if b.openPeak != len(vs) {
		t.Fatalf("openPeak %d, want %d", b.openPeak, len(vs))
	}
	for i, v := range vs[:len(vs)-10] {
		if _, err := s.MarkVisitSettled(ctx, v.ID, fmt.Sprintf("ST%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(b.openLines) != 10 || b.openPeak >= len(vs)/8 {
		t.Fatalf("openLines holds %d, peak %d; want 10 and a peak made anew", len(b.openLines), b.openPeak)
	}
	for _, v := range []store.Visit{vs[0], vs[len(vs)-1]} {
		if ds, err := s.FeeDetails(ctx, v.ID, ""); err != nil || len(ds) != 1 || ds[0].SN != "1" {
			t.Fatalf("FeeDetails %s: %v, %v", v.ID, ds, err)
		}
	}
}

// TestVisitLinesReadWhileUploaded: VisitDetails and FeeDetails decode a
// visit's lines after the book's mutex is released while uploads append
// to them and cancellations replace them (go test -race): every read is
// whole lines of the visit, in upload order, as some moment left them.
func TestVisitLinesReadWhileUploaded(t *testing.T) {
	ctx := context.Background()
	s, vs := linesStore(t, 1)
	id := vs[0].ID
	const uploads = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 2; i <= uploads; i++ {
			if err := s.PutFeeDetails(ctx, id, []store.FeeDetail{detailLine(fmt.Sprint(i))}); err != nil {
				t.Error(err)
				return
			}
			if i%50 == 0 {
				if _, err := s.CancelFeeDetails(ctx, id, "", fmt.Sprint(i-1)); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	check := func(lines []store.FeeDetail) {
		last := 0
		for _, d := range lines {
			var sn int
			if _, err := fmt.Sscan(d.SN, &sn); err != nil || sn <= last || d.VisitID != id || !d.SameContent(withVisit(detailLine(d.SN), id)) {
				t.Fatalf("line %+v after SN %d: not a whole line of the visit in upload order", d, last)
			}
			last = sn
		}
	}
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		_, lines, err := s.VisitDetails(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		check(lines)
		lines, err = s.FeeDetails(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		check(lines)
	}
	_, lines, err := s.VisitDetails(ctx, id, "")
	if err != nil || len(lines) != uploads-uploads/50 {
		t.Fatalf("at the end: %d lines, %v; want %d", len(lines), err, uploads-uploads/50)
	}
}

// withVisit is d of visit id.
func withVisit(d store.FeeDetail, id string) store.FeeDetail {
	d.VisitID = id
	return d
}
