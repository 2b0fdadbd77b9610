package memstore

import (
	"context"
	"fmt"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// contractRecord is a capitation contract's terms (Members unset) and its
// members.
type contractRecord struct {
	terms   engine.CapitationContract
	members map[string]struct{}
}

// PutContract creates or replaces a contract's terms; its members stay.
// Returns store.ErrNotFound if the lead institution does not exist,
// engine.ErrContractInUse if members are enrolled and the region, scheme
// or year would change.
func (s *Store) PutContract(_ context.Context, c engine.CapitationContract) error {
	terms := cloneContract(c)
	terms.Members = 0
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.institution(c.InstitutionID); !ok {
		return fmt.Errorf("lead institution %q of contract %q: %w", c.InstitutionID, c.ContractID, store.ErrNotFound)
	}
	rec, ok := s.contracts[c.ContractID]
	if !ok {
		s.contracts[c.ContractID] = &contractRecord{terms: terms, members: map[string]struct{}{}}
		return nil
	}
	old := rec.terms
	if len(rec.members) > 0 && (old.Region != c.Region || old.Scheme != c.Scheme || old.Year != c.Year) {
		return fmt.Errorf("contract %q has %d members of %s %s %d, cannot move to %s %s %d: %w",
			c.ContractID, len(rec.members), old.Region, schemeName(old.Scheme), old.Year,
			c.Region, schemeName(c.Scheme), c.Year, engine.ErrContractInUse)
	}
	rec.terms = terms
	return nil
}

// GetContract reads a contract with its member count. Returns
// store.ErrNotFound if there is none.
func (s *Store) GetContract(_ context.Context, id string) (engine.CapitationContract, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, ok := s.contracts[id]
	if !ok {
		return engine.CapitationContract{}, fmt.Errorf("capitation contract %q: %w", id, store.ErrNotFound)
	}
	out := cloneContract(rec.terms)
	out.Members = int64(len(rec.members))
	return out, nil
}

// EnrollMembers enrols persons in a contract in one step under the
// store's lock; see store.ClearingStore. A person repeated in personIDs,
// or already a member, counts as enrolled each time and changes nothing.
func (s *Store) EnrollMembers(_ context.Context, contractID string, personIDs []string) (int64, []store.EnrollRejection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.contracts[contractID]
	if !ok {
		return 0, nil, fmt.Errorf("capitation contract %q: %w", contractID, store.ErrNotFound)
	}
	c := rec.terms
	var enrolled int64
	var rejected []store.EnrollRejection
	reject := func(id, format string, args ...any) {
		rejected = append(rejected, store.EnrollRejection{PersonID: id, Reason: fmt.Sprintf(format, args...)})
	}
	for _, id := range personIDs {
		if _, member := rec.members[id]; member {
			enrolled++
			continue
		}
		p, ok := s.person(id)
		switch {
		case !ok:
			reject(id, "person %q is not registered", id)
			continue
		case p.Region != c.Region:
			reject(id, "person %q is insured in region %q, the contract is for region %q", id, p.Region, c.Region)
			continue
		case p.Scheme != c.Scheme:
			reject(id, "person %q is insured under %s, the contract is for %s", id, schemeName(p.Scheme), schemeName(c.Scheme))
			continue
		}
		if other, ok := s.enrolled[personYear{id, c.Year}]; ok && other != contractID {
			reject(id, "person %q is enrolled in contract %q for %d already", id, other, c.Year)
			continue
		}
		rec.members[id] = struct{}{}
		s.enrolled[personYear{id, c.Year}] = contractID
		enrolled++
	}
	return enrolled, rejected, nil
}

// schemeName names a scheme in messages.
func schemeName(s engine.Scheme) string {
	switch s {
	case engine.SchemeEmployee:
		return "the employee scheme"
	case engine.SchemeResident:
		return "the resident scheme"
	}
	return "no scheme"
}

// cloneContract is a deep copy of a contract.
func cloneContract(c engine.CapitationContract) engine.CapitationContract {
	out := c
	out.Components = nil
	for _, comp := range c.Components {
		comp.VisitTypes = append([]engine.VisitType(nil), comp.VisitTypes...)
		out.Components = append(out.Components, comp)
	}
	out.Shares = append([]engine.CapitationShare(nil), c.Shares...)
	return out
}
