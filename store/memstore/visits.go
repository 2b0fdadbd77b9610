package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

var _ store.VisitStore = (*Store)(nil)

// visitBook holds the gateway's visits and their fee details, under a
// mutex of its own (a visit's calls never touch settlements). The zero
// value is empty and ready.
type visitBook struct {
	mu       sync.Mutex
	byID     map[string]*visitRecord
	byNumber map[visitNumber]string
	// now is the clock of SettledAt (time.Now when nil; SetClock).
	now func() time.Time
}

var _ store.Clocked = (*Store)(nil)

// SetClock makes now the clock of the visits' OpenedAt and of the time
// SettleVisit records a visit settled at (time.Now when nil); see
// store.Clocked.
func (s *Store) SetClock(now func() time.Time) {
	s.visits.mu.Lock()
	defer s.visits.mu.Unlock()
	s.visits.now = now
}

// clock is the time now on the book's clock, UTC to the microsecond.
// Call with b.mu held.
func (b *visitBook) clock() time.Time {
	now := time.Now
	if b.now != nil {
		now = b.now
	}
	return now().UTC().Truncate(time.Microsecond)
}

// visitNumber is what OpenVisit is idempotent on.
type visitNumber struct {
	institution string
	kind        store.VisitKind
	number      string
}

// visitRecord is a visit with its live lines in upload order. Cancelled
// lines are only counted (rows): nothing reads them back.
type visitRecord struct {
	v     store.Visit
	lines detailLines
	rows  int
}

// visit returns the record of id, or ErrNotFound. Call with b.mu held.
func (b *visitBook) visit(id string) (*visitRecord, error) {
	r, ok := b.byID[id]
	if !ok {
		return nil, fmt.Errorf("visit %q: %w", id, store.ErrNotFound)
	}
	return r, nil
}

// OpenVisit stores a new OPEN visit, or returns the institution's visit of
// that kind and number; see store.VisitStore.
func (s *Store) OpenVisit(ctx context.Context, v store.Visit) (store.Visit, error) {
	if err := ctx.Err(); err != nil {
		return store.Visit{}, err
	}
	b := &s.visits
	key := visitNumber{v.InstitutionID, v.Kind, v.Number}
	b.mu.Lock()
	defer b.mu.Unlock()
	if id, ok := b.byNumber[key]; ok {
		return b.byID[id].v, nil
	}
	v, err := store.NewVisit(v)
	if err != nil {
		return store.Visit{}, err
	}
	s.mu.RLock()
	_, known := s.persons[v.PersonID]
	s.mu.RUnlock()
	if !known {
		return store.Visit{}, fmt.Errorf("person %q: %w", v.PersonID, store.ErrNotFound)
	}
	if _, taken := b.byID[v.ID]; taken {
		return store.Visit{}, fmt.Errorf("visit id %q is another visit's: %w", v.ID, store.ErrConflict)
	}
	v.OpenedAt = b.clock()
	if b.byID == nil {
		b.byID, b.byNumber = map[string]*visitRecord{}, map[visitNumber]string{}
	}
	b.byID[v.ID] = &visitRecord{v: v}
	b.byNumber[key] = v.ID
	return v, nil
}

// GetVisit reads a visit; see store.VisitStore.
func (s *Store) GetVisit(ctx context.Context, id string) (store.Visit, error) {
	if err := ctx.Err(); err != nil {
		return store.Visit{}, err
	}
	b := &s.visits
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.visit(id)
	if err != nil {
		return store.Visit{}, err
	}
	return r.v, nil
}

// CancelVisit cancels an OPEN visit; see store.VisitStore.
func (s *Store) CancelVisit(ctx context.Context, id string) (store.Visit, error) {
	return s.moveVisit(ctx, id, func(v store.Visit) (store.Visit, bool, error) {
		v, err := v.Cancelled()
		return v, err == nil, err
	})
}

// MarkVisitSettled settles an OPEN visit; see store.VisitStore.
func (s *Store) MarkVisitSettled(ctx context.Context, id, settlementID string) (store.Visit, error) {
	return s.moveVisit(ctx, id, func(v store.Visit) (store.Visit, bool, error) { return v.SettledBy(settlementID) })
}

// ReopenVisit reopens a visit after its settlement's reversal; see
// store.VisitStore.
func (s *Store) ReopenVisit(ctx context.Context, id, settlementID string) (store.Visit, error) {
	return s.moveVisit(ctx, id, func(v store.Visit) (store.Visit, bool, error) { return v.ReopenedFrom(settlementID) })
}

// RecordDischarge stores a visit's discharge record; see store.VisitStore.
func (s *Store) RecordDischarge(ctx context.Context, id, record string) error {
	if err := store.CheckDischarge(record); err != nil {
		return err
	}
	_, err := s.moveVisit(ctx, id, func(v store.Visit) (store.Visit, bool, error) {
		v, err := v.Discharged(record)
		return v, err == nil, err
	})
	return err
}

// moveVisit applies a transition to a visit under the book's mutex and
// stores the result when the transition changes it.
func (s *Store) moveVisit(ctx context.Context, id string, move func(store.Visit) (store.Visit, bool, error)) (store.Visit, error) {
	if err := ctx.Err(); err != nil {
		return store.Visit{}, err
	}
	b := &s.visits
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.visit(id)
	if err != nil {
		return store.Visit{}, err
	}
	v, changed, err := move(r.v)
	if err != nil {
		return store.Visit{}, err
	}
	if changed {
		r.v = v
	}
	return v, nil
}

// SettleVisit records a settlement and settles the visit mark names with
// it, both or neither; see store.VisitStore.
func (s *Store) SettleVisit(ctx context.Context, claim engine.Claim, compute store.ComputeFunc, mark store.VisitMark) (engine.Settlement, error) {
	if err := store.CheckVisitMark(mark); err != nil {
		return engine.Settlement{}, err
	}
	return s.settle(ctx, claim, compute, &mark)
}

// markable checks that the visit mark names may be settled for it now
// (store.Visit.SettledByMark's refusals). It takes b.mu.
func (b *visitBook) markable(mark store.VisitMark) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.visit(mark.VisitID)
	if err != nil {
		return err
	}
	_, err = r.v.SettledByMark(mark, "", time.Time{})
	return err
}
