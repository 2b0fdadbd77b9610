package memstore

import (
	"context"
	"fmt"
	"sort"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// PutFiling creates or replaces a cross-region filing; see store.Store.
func (s *Store) PutFiling(ctx context.Context, f engine.Filing) error {
	// Persons are never deleted: checking first keeps unknown ids from
	// growing the lock table.
	if _, err := s.GetPerson(ctx, f.PersonID); err != nil {
		return err
	}
	mu := s.lockPerson(f.PersonID)
	defer mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	person, _ := s.person(f.PersonID)
	if err := engine.ValidateFiling(f, person); err != nil {
		return err
	}
	mine := s.filings[f.PersonID]
	_, replaces := mine[f.ID]
	if err := engine.CheckFilingCount(f.PersonID, len(mine), replaces); err != nil {
		return err
	}
	if owner, ok := s.filingOwner[f.ID]; ok && owner != f.PersonID {
		delete(s.filings[owner], f.ID)
	}
	if mine == nil {
		mine = map[string]engine.Filing{}
		s.filings[f.PersonID] = mine
	}
	mine[f.ID] = f
	s.filingOwner[f.ID] = f.PersonID
	return nil
}

// Filings lists a person's filings by valid_from, then id; see store.Store.
func (s *Store) Filings(_ context.Context, personID string) ([]engine.Filing, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.persons[personID]; !ok {
		return nil, fmt.Errorf("person %q: %w", personID, store.ErrNotFound)
	}
	return s.filingsLocked(personID), nil
}

// filingsLocked is a copy of a person's filings in list order; s.mu must
// be held.
func (s *Store) filingsLocked(personID string) []engine.Filing {
	mine := s.filings[personID]
	if len(mine) == 0 {
		return nil
	}
	out := make([]engine.Filing, 0, len(mine))
	for _, f := range mine {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].ValidFrom.Compare(out[j].ValidFrom); c != 0 {
			return c < 0
		}
		return out[i].ID < out[j].ID
	})
	return out
}
