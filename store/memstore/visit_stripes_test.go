package memstore

import (
	"context"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// settleHeld settles visit v of linesStore's P1 in a goroutine whose
// compute takes the book's mutex and keeps it: the settlement then writes
// its record and waits for the book's mutex to mark the visit. It returns
// the request's key, a channel of SettleVisit's answer, and the function
// that releases the book's mutex.
func settleHeld(t *testing.T, s *Store, v store.Visit) (requestKey, <-chan error, func()) {
	t.Helper()
	claim := engine.Claim{RequestID: "R-held", InstitutionID: "H1", PersonID: "P1", VisitType: engine.VisitInpatient,
		SettleDate: engine.Date{Year: 2024, Month: 3, Day: 1},
		Items: []engine.LineItem{{Code: "X1", Name: "item 1", Quantity: engine.QuantityOf(1),
			UnitPrice: engine.MustPrice("10"), Amount: engine.MustMoney("10")}}}
	mark := store.VisitMark{VisitID: v.ID, Generation: v.Generation, DetailsVersion: v.DetailsVersion, Msgid: "M-held", CertType: "02"}
	if err := s.PutInstitution(context.Background(), engine.Institution{ID: "H1", Region: "R1", Level: 3}); err != nil {
		t.Fatal(err)
	}
	m := engine.MustMoney
	res := engine.Result{PolicyVersion: "v1", PolicyRegion: "R1", PolicyScheme: engine.SchemeEmployee, CrossRegion: engine.CrossRegionLocal,
		Breakdown: engine.Breakdown{Total: m("10"), InScope: m("10"), PersonalTotal: m("10"), Cash: m("10")},
		Delta:     engine.NewAccumulators("P1", 2024)}
	computed := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.SettleVisit(context.Background(), claim, func(store.PersonYear) (engine.Result, error) {
			s.visits.mu.Lock() // released by the test
			close(computed)
			return res, nil
		}, mark)
		done <- err
	}()
	select {
	case <-computed:
	case <-time.After(10 * time.Second):
		t.Fatal("compute never ran")
	}
	var once bool
	release := func() {
		if !once {
			once = true
			s.visits.mu.Unlock()
		}
	}
	t.Cleanup(release)
	return requestKey{"H1", "R-held"}, done, release
}

// stored reports whether a settlement of key is recorded, if the store's
// mutex can be had now.
func stored(s *Store, key requestKey) (recorded, free bool) {
	if !s.mu.TryRLock() {
		return false, false
	}
	defer s.mu.RUnlock()
	_, done, _ := s.replayLocked(key, s.recs.keyHash(key), func(string) bool { return true })
	return done, true
}

// TestSettleVisitMarksOutsideStoreMutex: a settlement waiting for the
// book's mutex to mark its visit does not hold the store's mutex (the
// store's holder never waits behind the uploads of other visits); it
// holds the visit's stripe until the mark, so no call sees the visit
// between the settlement's writes and its mark; and the mark follows.
func TestSettleVisitMarksOutsideStoreMutex(t *testing.T) {
	s, vs := linesStore(t, 1)
	v, err := s.GetVisit(context.Background(), vs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	key, done, release := settleHeld(t, s, v)
	deadline := time.Now().Add(5 * time.Second)
	for {
		recorded, free := stored(s, key)
		if recorded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the settlement was not recorded with the book's mutex held (store's mutex free: %v): it waits for the book's under the store's", free)
		}
		time.Sleep(time.Millisecond)
	}
	// Recorded, not yet marked: its stripe is held, so a read waits.
	stripe := &s.visitLocks[stripeOf(v.ID)]
	if stripe.TryLock() {
		stripe.Unlock()
		t.Fatal("the visit's stripe is free between the settlement's writes and its mark")
	}
	read := make(chan store.Visit, 1)
	go func() {
		got, err := s.GetVisit(context.Background(), v.ID)
		if err != nil {
			t.Error(err)
		}
		read <- got
	}()
	select {
	case got := <-read:
		t.Fatalf("GetVisit answered %s before the mark", got.State)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := <-read; got.State != store.VisitSettled || got.SettlementID == "" {
		t.Fatalf("read after the mark: %s by %q, want SETTLED", got.State, got.SettlementID)
	}
}

// TestVisitStripesSpread: the stripes of the gateway's ids (a prefix and
// a counter) spread: 64 consecutive ids take at least 60 stripes.
func TestVisitStripesSpread(t *testing.T) {
	seen := map[uint32]bool{}
	for i := range 64 {
		seen[stripeOf("H1"+string(rune('0'+i/10%10))+string(rune('0'+i%10))+"20250602")] = true
	}
	if len(seen) < 60 {
		t.Fatalf("64 ids took %d stripes", len(seen))
	}
}
