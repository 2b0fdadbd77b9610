package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/medsettle/medsettle/store"
)

// AdjustAccount credits or debits a person's account balance under the
// person's lock and records the adjustment, keyed by request id among
// adjustments alone. A retry returns the recorded adjustment.
func (s *Store) AdjustAccount(_ context.Context, a store.Adjustment) (store.Adjustment, error) {
	mu := s.lockPerson(a.PersonID)
	defer mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if first, ok := s.adjustments[a.RequestID]; ok {
		if !first.SameRequest(a) {
			return store.Adjustment{}, fmt.Errorf("account adjustment %q: %w", a.RequestID, store.ErrConflict)
		}
		first.Person = clonePerson(first.Person)
		return first, nil
	}
	e, ok := s.persons[a.PersonID]
	if !ok {
		return store.Adjustment{}, fmt.Errorf("person %q: %w", a.PersonID, store.ErrNotFound)
	}
	p := e.p
	balance := p.AccountBalance.Add(a.Delta())
	if balance.IsNegative() {
		return store.Adjustment{}, fmt.Errorf("person %q: debit %s, balance %s: %w",
			a.PersonID, a.Debit, p.AccountBalance, store.ErrInsufficientBalance)
	}
	p.AccountBalance = balance
	e.p = p
	a.At = time.Now().UTC().Truncate(time.Microsecond)
	a.Person = p
	if s.adjustments == nil {
		s.adjustments = map[string]store.Adjustment{}
	}
	s.adjustments[a.RequestID] = a
	a.Person = clonePerson(a.Person)
	return a, nil
}
