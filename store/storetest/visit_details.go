package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// Fee-detail uploads: the details version, and uploads at once (which a
// store may commit together) that must each keep the contract alone.

// wantVersion fails unless visit id's DetailsVersion is want.
func (e *visitEnv) wantVersion(what, id string, want int64) {
	e.t.Helper()
	if got := e.visit(id).DetailsVersion; got != want {
		e.t.Errorf("%s: DetailsVersion %d, want %d", what, got, want)
	}
}

// testDetailsVersion checks that every PutFeeDetails that adds a line and
// every CancelFeeDetails that cancels one adds one to the visit's
// DetailsVersion, and nothing else does: a retry, a refused upload, a
// cancellation that matches nothing, another visit's change.
func testDetailsVersion(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	id := e.open(outpatientVisit("MZ1")).ID
	other := e.open(outpatientVisit("MZ2")).ID
	e.wantVersion("opened", id, 0)
	a1, a2, a3 := detail(id, "B1", "1", "1", "1"), detail(id, "B1", "2", "2", "2"), detail(id, "B2", "3", "3", "3")
	e.put(id, a1, a2)
	e.wantVersion("after an upload", id, 1)
	e.put(id, a1, a2)
	e.put(id, a2)
	e.wantVersion("after retries", id, 1)
	e.put(id, a2, a3)
	e.wantVersion("after an upload with one new line", id, 2)
	changed := a1
	changed.Amount = dec("9.99")
	var dc *store.DetailConflictError
	if err := vs.PutFeeDetails(ctx, id, []store.FeeDetail{detail(id, "B1", "4", "1", "1"), changed}); !errors.As(err, &dc) {
		t.Errorf("conflicting upload: %v, want a *store.DetailConflictError", err)
	}
	bad := detail(id, "B1", "5", "1", "1")
	bad.SN = ""
	wantInvalid(t, "upload without SN", vs.PutFeeDetails(ctx, id, []store.FeeDetail{bad}), "lines[0].sn")
	e.wantVersion("after refused uploads", id, 2)
	e.put(other, detail(other, "B1", "1", "1", "1"))
	e.wantVersion("after another visit's upload", id, 2)
	e.wantVersion("the other visit", other, 1)
	for _, c := range [][2]string{{"", "nobody"}, {"B9", ""}, {"B2", "1"}} {
		if n, err := vs.CancelFeeDetails(ctx, id, c[0], c[1]); n != 0 || err != nil {
			t.Errorf("CancelFeeDetails(%q, %q) = %d, %v; want 0", c[0], c[1], n, err)
		}
	}
	e.wantVersion("after cancelling nothing", id, 2)
	if n, err := vs.CancelFeeDetails(ctx, id, "", "1"); n != 1 || err != nil {
		t.Errorf("CancelFeeDetails SN 1 = %d, %v; want 1", n, err)
	}
	e.wantVersion("after cancelling a line", id, 3)
	if n, err := vs.CancelFeeDetails(ctx, id, "", ""); n != 2 || err != nil {
		t.Errorf("CancelFeeDetails all = %d, %v; want 2", n, err)
	}
	e.wantVersion("after cancelling two lines at once", id, 4)
	e.put(id, a1)
	e.wantVersion("after uploading a cancelled SN again", id, 5)

	if _, err := vs.MarkVisitSettled(ctx, id, "ST-1"); err != nil {
		t.Fatalf("MarkVisitSettled: %v", err)
	}
	wantErr(t, "upload to a settled visit", vs.PutFeeDetails(ctx, id, []store.FeeDetail{a3}), store.ErrVisitNotOpen)
	if _, err := vs.CancelFeeDetails(ctx, id, "", ""); !errors.Is(err, store.ErrVisitNotOpen) {
		t.Errorf("cancel on a settled visit: %v, want %v", err, store.ErrVisitNotOpen)
	}
	e.wantVersion("after refused calls on the settled visit", id, 5)
}

// testFeeDetailsAtOnce uploads to many visits at once, good uploads among
// bad ones: every good upload lands with its exact lines, every bad one
// fails with its own error and changes nothing, whichever uploads a store
// commits together; uploads to one visit at once each see the others'.
func testFeeDetailsAtOnce(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	ids := make([]string, workers)
	for g := range ids {
		ids[g] = e.open(outpatientVisit(fmt.Sprintf("MZ-%02d", g))).ID
	}
	settled := e.open(outpatientVisit("MZ-SETTLED")).ID
	if _, err := vs.MarkVisitSettled(ctx, settled, "ST-1"); err != nil {
		t.Fatalf("MarkVisitSettled: %v", err)
	}
	// Each visit holds one line already: SN "0".
	for _, id := range ids {
		e.put(id, detail(id, "B", "0", "1", "1"))
	}
	// Worker g uploads three good lines to visit g, then one bad upload
	// of a kind picked by g, then three more good lines.
	good := func(g, k int) []store.FeeDetail {
		id := ids[g]
		return []store.FeeDetail{
			detail(id, "B", fmt.Sprintf("%d-a", k), fmt.Sprint(g+1), "1.5"),
			detail(id, "B", fmt.Sprintf("%d-b", k), "2", fmt.Sprintf("0.0%d", g%9+1)),
			detail(id, "C", fmt.Sprintf("%d-c", k), "0.0001", "123456.789012"),
		}
	}
	errs := make([]error, workers)
	runWorkers(func(g int) {
		id := ids[g]
		if err := vs.PutFeeDetails(ctx, id, good(g, 1)); err != nil {
			errs[g] = fmt.Errorf("first good upload: %w", err)
			return
		}
		var err error
		switch g % 4 {
		case 0: // SN "0" again with other content, among new lines
			conflict := detail(id, "B", "0", "7", "1")
			err = vs.PutFeeDetails(ctx, id, []store.FeeDetail{detail(id, "B", "x1", "1", "1"), conflict})
			var dc *store.DetailConflictError
			if !errors.As(err, &dc) || len(dc.SNs) != 1 || dc.SNs[0] != "0" {
				errs[g] = fmt.Errorf("conflicting upload: %v, want a conflict on SN 0", err)
				return
			}
		case 1: // a negative figure
			neg := detail(id, "B", "x1", "1", "1")
			neg.Amount = dec("-1.00")
			err = vs.PutFeeDetails(ctx, id, []store.FeeDetail{detail(id, "B", "x2", "1", "1"), neg})
			var ve *engine.ValidationError
			if !errors.As(err, &ve) || !ve.Has("lines[1].amount") {
				errs[g] = fmt.Errorf("negative upload: %v, want a validation error", err)
				return
			}
		case 2: // a visit that does not exist
			err = vs.PutFeeDetails(ctx, fmt.Sprintf("MD-NONE-%02d", g), []store.FeeDetail{detail(id, "B", "x1", "1", "1")})
			if !errors.Is(err, store.ErrNotFound) {
				errs[g] = fmt.Errorf("upload to no visit: %v, want %v", err, store.ErrNotFound)
				return
			}
		case 3: // a settled visit
			err = vs.PutFeeDetails(ctx, settled, []store.FeeDetail{detail(settled, "B", fmt.Sprint(g), "1", "1")})
			if !errors.Is(err, store.ErrVisitNotOpen) {
				errs[g] = fmt.Errorf("upload to a settled visit: %v, want %v", err, store.ErrVisitNotOpen)
				return
			}
		}
		if err := vs.PutFeeDetails(ctx, id, good(g, 2)); err != nil {
			errs[g] = fmt.Errorf("second good upload: %w", err)
		}
	})
	for g, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", g, err)
		}
	}
	for g, id := range ids {
		want := append([]store.FeeDetail{detail(id, "B", "0", "1", "1")}, good(g, 1)...)
		want = append(want, good(g, 2)...)
		e.sameDetails(fmt.Sprintf("visit %d", g), e.details(id, ""), want)
		e.wantVersion(fmt.Sprintf("visit %d", g), id, 3)
	}
	if got := e.details(settled, ""); len(got) != 0 {
		t.Errorf("settled visit got lines %v", sns(got))
	}
	e.wantVersion("settled visit", settled, 0)

	// Uploads to one visit at once, each of new SNs: each lands, and
	// each adds one to the version.
	id := ids[0]
	runWorkers(func(g int) {
		errs[g] = vs.PutFeeDetails(ctx, id, []store.FeeDetail{detail(id, "S", fmt.Sprintf("s%02d", g), "1", "1"), detail(id, "S", "shared", "1", "1")})
	})
	for g, err := range errs {
		if err != nil {
			t.Errorf("worker %d: upload to the shared visit: %v", g, err)
		}
	}
	if got := e.details(id, "S"); len(got) != workers+1 {
		t.Errorf("shared visit: %d lines of batch S, want %d", len(got), workers+1)
	}
	// The first upload adds "shared", every other finds it: all add one.
	e.wantVersion("shared visit", id, 3+workers)

	// Two uploads at once of one new SN with different content: exactly
	// one lands, the other is a conflict, and the version moves once.
	for round := range 8 {
		sn := fmt.Sprintf("pair-%d", round)
		wins := make([]bool, 2)
		runN(2, func(g int) {
			err := vs.PutFeeDetails(ctx, id, []store.FeeDetail{detail(id, "P", sn, fmt.Sprint(g+1), "1")})
			switch {
			case err == nil:
				wins[g] = true
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("round %d, upload %d: %v", round, g, err)
			}
		})
		if n := count(wins); n != 1 {
			t.Errorf("round %d: %d uploads of SN %s landed, want 1", round, n, sn)
		}
	}
	if got := e.details(id, "P"); len(got) != 8 {
		t.Errorf("contested pairs: %d lines stored, want 8", len(got))
	}
	e.wantVersion("after the contested pairs", id, 3+workers+8)
}

// runN runs f(0) … f(n-1) at once and waits for them.
func runN(n int, f func(g int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range n {
		wg.Go(func() {
			<-start
			f(g)
		})
	}
	close(start)
	wg.Wait()
}

// testVisitDetails reads a visit and its live lines in one call
// (store.VisitStore.VisitDetails): what GetVisit and FeeDetails read, for
// every batch and after a cancellation; ErrNotFound for an unknown visit
// and one no store can hold; no line for a batch no store can hold. With
// uploads at once, the visit is never read after its lines: each read
// holds at least as many lines as its DetailsVersion counts uploads.
func testVisitDetails(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	v := e.open(outpatientVisit("VD1"))
	id := v.ID
	a1, a2, b1 := detail(id, "B1", "1", "1", "10"), detail(id, "B1", "2", "2", "5"), detail(id, "B2", "3", "1", "7")
	e.put(id, a1, a2)
	e.put(id, b1)
	check := func(what, batch string, want []store.FeeDetail) {
		t.Helper()
		got, ds, err := vs.VisitDetails(ctx, id, batch)
		if err != nil {
			t.Fatalf("VisitDetails %s: %v", what, err)
		}
		e.sameVisit("VisitDetails' visit, "+what, got, e.visit(id))
		if len(want) == 0 {
			if len(ds) != 0 {
				t.Errorf("VisitDetails %s: lines %v, want none", what, sns(ds))
			}
			return
		}
		e.sameDetails("VisitDetails' lines, "+what, ds, want)
		e.sameDetails("FeeDetails, "+what, e.details(id, batch), want)
	}
	check("of every batch", "", []store.FeeDetail{a1, a2, b1})
	check("of batch B1", "B1", []store.FeeDetail{a1, a2})
	check("of batch B2", "B2", []store.FeeDetail{b1})
	check("of an unknown batch", "B9", nil)
	check("of a batch no store can hold", "B\x00", nil)
	if _, err := vs.CancelFeeDetails(ctx, id, "B1", "1"); err != nil {
		t.Fatal(err)
	}
	check("after a cancellation", "", []store.FeeDetail{a2, b1})
	for _, unknown := range []string{"MD00000000000000000000000000ff", "MD\x00"} {
		if _, ds, err := vs.VisitDetails(ctx, unknown, ""); !errors.Is(err, store.ErrNotFound) || len(ds) != 0 {
			t.Errorf("VisitDetails of unknown visit %q: %d lines, %v; want ErrNotFound", unknown, len(ds), err)
		}
	}

	// Uploads of one new line each (each one more DetailsVersion) while
	// VisitDetails reads.
	w := e.open(outpatientVisit("VD2"))
	const uploads = 40
	var mu sync.Mutex
	var problems []string
	runN(4, func(g int) {
		if g == 0 {
			for i := range uploads {
				if err := vs.PutFeeDetails(ctx, w.ID, []store.FeeDetail{detail(w.ID, "B1", fmt.Sprint(i+1), "1", "1")}); err != nil {
					mu.Lock()
					problems = append(problems, fmt.Sprintf("upload %d: %v", i+1, err))
					mu.Unlock()
				}
			}
			return
		}
		for range uploads {
			got, ds, err := vs.VisitDetails(ctx, w.ID, "")
			if err == nil && int64(len(ds)) < got.DetailsVersion {
				err = fmt.Errorf("DetailsVersion %d with %d lines: the visit was read after its lines", got.DetailsVersion, len(ds))
			}
			if err != nil {
				mu.Lock()
				problems = append(problems, err.Error())
				mu.Unlock()
			}
		}
	})
	for _, p := range problems {
		t.Error(p)
	}
}
