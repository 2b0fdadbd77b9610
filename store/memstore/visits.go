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
// mutex of its own (a visit's calls never touch settlements),
// without a pointer per visit for the garbage collector to scan: each
// visit is a pointer-free slot (visitSlot, visit_codec.go) whose strings
// are in pointer-free byte chunks (visit_slots.go), found by hash indexes
// (visit_index.go); a visit's live fee-detail lines (detail_codec.go) are
// in the chunks too once it is settled or cancelled, and in a map of
// their own while they change (visit_lines.go). The zero value is empty
// and ready.
type visitBook struct {
	mu sync.Mutex
	// strs holds the visits' strings (visitSlot's string groups).
	strs  byteChunks
	slots pagedSlice[visitSlot]
	// openLines and openPeak are the live fee-detail lines of the visits
	// whose lines changed since they were last frozen (visit_lines.go).
	openLines map[uint32][]byte
	openPeak  int
	index     visitIndex
	// cache holds the fixed strings of the visits decoded last
	// (visit_cache.go), recent the slots of the visits found last
	// (visit_recent.go).
	cache  visitCache
	recent visitRecent
	// out is the scratch record visit hands out (visit_lock.go).
	out visitRecord
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

// OpenVisit stores a new OPEN visit, or returns the institution's visit of
// that kind and number; see store.VisitStore.
func (s *Store) OpenVisit(ctx context.Context, v store.Visit) (store.Visit, error) {
	if err := ctx.Err(); err != nil {
		return store.Visit{}, err
	}
	b := &s.visits
	key := visitNumber{v.InstitutionID, v.Kind, v.Number}
	// The person is looked up before the book's mutex is taken: neither
	// the store's mutex nor the book's is ever awaited under the other
	// (visitStripes). Persons are never deleted, so the answer holds.
	s.mu.RLock()
	_, known := s.persons[v.PersonID]
	s.mu.RUnlock()
	b.mu.Lock()
	if slot, ok := b.slotOfNumber(key); ok {
		v, err := b.load(slot)
		b.mu.Unlock()
		if err != nil {
			return store.Visit{}, fmt.Errorf("visit %s %q: %w", key.institution, key.number, err)
		}
		// Read again under its stripe, as every read of a visit is: a
		// settlement may be between its writes and the visit's mark.
		// Visits are never deleted: the id found stays the visit's.
		return s.GetVisit(ctx, v.ID)
	}
	defer b.mu.Unlock()
	v, err := store.NewVisit(v)
	if err != nil {
		return store.Visit{}, err
	}
	if !known {
		return store.Visit{}, fmt.Errorf("person %q: %w", v.PersonID, store.ErrNotFound)
	}
	if _, taken := b.slotOfID(v.ID); taken {
		return store.Visit{}, fmt.Errorf("visit id %q is another visit's: %w", v.ID, store.ErrConflict)
	}
	v.OpenedAt = b.clock()
	b.add(&v, key)
	return v, nil
}

// GetVisit reads a visit; see store.VisitStore.
func (s *Store) GetVisit(ctx context.Context, id string) (store.Visit, error) {
	if err := ctx.Err(); err != nil {
		return store.Visit{}, err
	}
	vmu := s.visitLocks.lock(id)
	defer vmu.Unlock()
	b := &s.visits
	b.mu.Lock()
	defer b.mu.Unlock()
	_, v, err := b.find(id)
	return v, err
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

// moveVisit applies a transition to a visit under its stripe and the
// book's mutex and stores the result when the transition changes it.
func (s *Store) moveVisit(ctx context.Context, id string, move func(store.Visit) (store.Visit, bool, error)) (store.Visit, error) {
	if err := ctx.Err(); err != nil {
		return store.Visit{}, err
	}
	vmu := s.visitLocks.lock(id)
	defer vmu.Unlock()
	b := &s.visits
	b.mu.Lock()
	defer b.mu.Unlock()
	slot, old, err := b.find(id)
	if err != nil {
		return store.Visit{}, err
	}
	v, changed, err := move(old)
	if err != nil {
		return store.Visit{}, err
	}
	if changed {
		b.put(slot, &old, &v)
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
// (store.Visit.SettledByMark's refusals). It takes b.mu; the caller holds
// the visit's stripe, so the answer holds until it releases it.
func (b *visitBook) markable(mark store.VisitMark) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, v, err := b.find(mark.VisitID)
	if err != nil {
		return err
	}
	_, err = v.SettledByMark(mark, "", time.Time{})
	return err
}
