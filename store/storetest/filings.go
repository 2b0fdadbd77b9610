package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// filing is a filing of person for region from..to.
func filing(id, person, reg string, from, to engine.Date) engine.Filing {
	return engine.Filing{ID: id, PersonID: person, Region: reg, ValidFrom: from, ValidTo: to}
}

// filingIDs lists the ids of filings in order.
func filingIDs(fs []engine.Filing) string {
	out := ""
	for i, f := range fs {
		if i > 0 {
			out += ","
		}
		out += f.ID
	}
	return out
}

// testFilings checks PutFiling and Filings: their error contracts (an
// unknown person, the person's own region, dates out of order, too many
// filings; nothing stored on error), replacement by id (also for another
// person), the list order, that settlements read the filings under the
// person's lock, and that a settlement is recorded with the cross_region
// compute decided, a retry matching it when it leaves cross_region
// unspecified or gives the decided value.
func testFilings(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	mar1, mar31 := engine.Date{Year: 2024, Month: time.March, Day: 1}, engine.Date{Year: 2024, Month: time.March, Day: 31}
	list := func(person string) []engine.Filing {
		t.Helper()
		fs, err := e.st.Filings(e.ctx, person)
		if err != nil {
			t.Fatalf("Filings %s: %v", person, err)
		}
		return fs
	}
	invalid := func(what string, err error, field string) {
		t.Helper()
		var ve *engine.ValidationError
		if !errors.As(err, &ve) || !ve.Has(field) {
			t.Errorf("%s: %v, want a *ValidationError naming %s", what, err, field)
		}
	}

	// A person without filings lists none; an unknown person is not found.
	if fs := list(psnEmployed); len(fs) != 0 {
		t.Errorf("filings of a person who has none: %+v", fs)
	}
	if _, err := e.st.Filings(e.ctx, "P9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Filings of an unknown person: %v, want ErrNotFound", err)
	}

	// Refused filings store nothing.
	if err := e.st.PutFiling(e.ctx, filing("F0", "P9", "R2", mar1, mar31)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutFiling for an unknown person: %v, want ErrNotFound", err)
	}
	invalid("a filing for the person's own region", e.st.PutFiling(e.ctx, filing("F0", psnEmployed, region, mar1, mar31)), "filing.region")
	invalid("a filing ending before it starts", e.st.PutFiling(e.ctx, filing("F0", psnEmployed, "R2", mar31, mar1)), "filing.valid_to")
	if fs := list(psnEmployed); len(fs) != 0 {
		t.Errorf("refused filings were stored: %+v", fs)
	}

	// Listed by valid_from, then id in byte order ("B" before "a").
	for _, f := range []engine.Filing{
		filing("a", psnEmployed, "R2", mar1, mar31),
		filing("F-LATE", psnEmployed, "R3", engine.Date{Year: 2024, Month: time.June, Day: 1}, dec31st24),
		filing("B", psnEmployed, "R4", mar1, mar1),
		filing("F-EARLY", psnEmployed, "R2", jan1st2024, jan1st2024),
	} {
		if err := e.st.PutFiling(e.ctx, f); err != nil {
			t.Fatalf("PutFiling %s: %v", f.ID, err)
		}
	}
	fs := list(psnEmployed)
	if got := filingIDs(fs); got != "F-EARLY,B,a,F-LATE" {
		t.Fatalf("filings listed %s, want F-EARLY,B,a,F-LATE", got)
	}
	if d := diff(fs[2], filing("a", psnEmployed, "R2", mar1, mar31)); len(d) > 0 {
		t.Errorf("filing a read back: %v", d)
	}
	// The list is the caller's copy.
	fs[0].Region = "CHANGED"
	if list(psnEmployed)[0].Region != "R2" {
		t.Errorf("changing a returned filing changed the store")
	}

	// Replacing by id: new region and dates, and moving to another person.
	if err := e.st.PutFiling(e.ctx, filing("a", psnEmployed, "R5", jan1st2025, dec31st25)); err != nil {
		t.Fatalf("replace a: %v", err)
	}
	if err := e.st.PutFiling(e.ctx, filing("B", psnRetired, "R4", mar1, mar1)); err != nil {
		t.Fatalf("move B to %s: %v", psnRetired, err)
	}
	if got := filingIDs(list(psnEmployed)); got != "F-EARLY,F-LATE,a" {
		t.Errorf("after replacing a and moving B: %s, want F-EARLY,F-LATE,a", got)
	}
	if got := list(psnRetired); filingIDs(got) != "B" || got[0].PersonID != psnRetired {
		t.Errorf("filings of %s after moving B to them: %+v", psnRetired, got)
	}
	// A refused replacement leaves the filing as it was.
	invalid("replacing with the own region", e.st.PutFiling(e.ctx, filing("a", psnEmployed, region, mar1, mar31)), "filing.region")
	if fs := list(psnEmployed); fs[2].Region != "R5" {
		t.Errorf("a refused replacement changed filing a: %+v", fs[2])
	}

	// What a settlement reads carries the person's filings, in list order.
	if got := filingIDs(e.snap(psnEmployed, hospBudget, 2024).Filings); got != "F-EARLY,F-LATE,a" {
		t.Errorf("Snapshot filings %s, want F-EARLY,F-LATE,a", got)
	}
	var seen atomic.Value
	c := inpatient("req-f", hospBudget, psnEmployed, day2024, "1000")
	compute := e.compute(c)
	if _, err := e.st.Settle(e.ctx, c, func(py store.PersonYear) (engine.Result, error) {
		seen.Store(filingIDs(py.Filings))
		return compute(py)
	}); err != nil {
		t.Fatalf("Settle: %v", err)
	}
	if got := seen.Load(); got != "F-EARLY,F-LATE,a" {
		t.Errorf("Settle read filings %v, want F-EARLY,F-LATE,a", got)
	}

	// At most engine.MaxFilings a person; replacing one is still fine.
	for i := 0; i < engine.MaxFilings; i++ {
		if err := e.st.PutFiling(e.ctx, filing(fmt.Sprintf("M%03d", i), psnPoor, "R2", mar1, mar31)); err != nil {
			t.Fatalf("filing %d of %d: %v", i+1, engine.MaxFilings, err)
		}
	}
	invalid("one filing too many", e.st.PutFiling(e.ctx, filing("M-MORE", psnPoor, "R2", mar1, mar31)), "filing.filing_id")
	if err := e.st.PutFiling(e.ctx, filing("M000", psnPoor, "R3", mar1, mar31)); err != nil {
		t.Errorf("replacing a filing of a person at the limit: %v", err)
	}
	if n := len(list(psnPoor)); n != engine.MaxFilings {
		t.Errorf("%d filings, want %d", n, engine.MaxFilings)
	}
}

// testSettleRecordsDecidedCrossRegion: a settlement is recorded with the
// cross_region its compute decided (claim.Decided) and that claim's
// fingerprint; a retry that leaves cross_region unspecified or gives the
// decided value is the same request, one that gives another value is
// another request (ErrConflict), and neither calls compute.
func testSettleRecordsDecidedCrossRegion(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	c := inpatient("req-x", hospBudget, psnEmployed, day2024, "3000")
	decided := func(cr engine.CrossRegion) store.ComputeFunc {
		compute := e.compute(c)
		return func(py store.PersonYear) (engine.Result, error) {
			res, err := compute(py)
			res.CrossRegion = cr
			return res, err
		}
	}
	first, err := e.st.Settle(e.ctx, c, decided(engine.CrossRegionUnregistered))
	if err != nil {
		t.Fatalf("Settle: %v", err)
	}
	want := c.Decided(engine.CrossRegionUnregistered)
	if first.Claim.CrossRegion != engine.CrossRegionUnregistered || first.Fingerprint != want.Fingerprint() ||
		first.Result.CrossRegion != engine.CrossRegionUnregistered {
		t.Fatalf("recorded cross_region %v (result %v), fingerprint %q; want UNREGISTERED and %q",
			first.Claim.CrossRegion, first.Result.CrossRegion, first.Fingerprint, want.Fingerprint())
	}
	sameSettlement(t, "GetSettlement", e.get(first.ID), first)
	state := e.world()
	var calls atomic.Int64
	for _, cr := range []engine.CrossRegion{engine.CrossRegionUnspecified, engine.CrossRegionUnregistered} {
		retry := c
		retry.CrossRegion = cr
		got, err := e.st.Settle(e.ctx, retry, countingCompute(decided(engine.CrossRegionUnregistered), &calls))
		if err != nil {
			t.Fatalf("retry declaring %v: %v", cr, err)
		}
		sameSettlement(t, fmt.Sprintf("retry declaring %v", cr), got, first)
	}
	for _, cr := range []engine.CrossRegion{engine.CrossRegionLocal, engine.CrossRegionRegistered} {
		other := c
		other.CrossRegion = cr
		if _, err := e.st.Settle(e.ctx, other, countingCompute(decided(cr), &calls)); !errors.Is(err, store.ErrConflict) {
			t.Errorf("the same id declaring %v: %v, want ErrConflict", cr, err)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("retries and conflicts called compute %d times, want 0", n)
	}
	e.unchanged("retries and conflicts", state)
}
