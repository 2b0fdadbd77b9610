// Package memstore is the embedded in-memory store: the zero-setup default
// of `medsettle serve`. It keeps every promise of the store contract while
// the process lives, and nothing after it exits.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

var _ store.Store = (*Store)(nil)

// Store is an in-memory store.Store. A settlement holds its person's lock
// while it computes, so settlements of one person never interleave and
// different persons never wait for each other; the shared maps are guarded
// by one mutex held only for map reads and the final commit.
//
// A stored settlement record is never modified in place: Settle and
// Reverse append a new encoded record (record_store.go), so that a
// record's bytes found under the mutex stay valid after it is released
// (GetSettlement decodes them without holding it).
type Store struct {
	mu sync.RWMutex
	// persons are the stored persons by id (person_entry.go).
	persons map[string]*personEntry
	// institutions (id → engine.Institution, its budgets never changed
	// once stored) and policies (a slice PutPolicy replaces whole, never
	// changed once stored) are written under the mutex and read without
	// it by GetInstitution and Policies, which every settlement calls.
	institutions sync.Map
	policies     atomic.Pointer[[]*engine.Policy]
	// recs are the settlement records, encoded (record_store.go), with
	// the request keys of Settle; reversalKeys are the request keys of
	// Reverse.
	recs         records
	reversalKeys map[requestKey]keyEntry
	budgetUsed   map[institutionYear]engine.Money

	// Cross-region filings by person and filing id, and the person each
	// filing id is for.
	filings     map[string]map[string]engine.Filing
	filingOwner map[string]string

	// Settlement slots (records) by institution, in commit order
	// (settlements are never deleted): what reconciliation scans instead
	// of every settlement. Those by person are in its entry
	// (personEntry.slots).
	byInstitution map[string][]uint32

	// Clearing runs by id, the draft of each run key, the final runs.
	runs   map[string]*runRecord
	drafts map[string]string
	finals []string
	runSeq int64

	// Capitation contracts by id, and which contract a person is enrolled
	// in for a year.
	contracts map[string]*contractRecord
	enrolled  map[personYear]string

	locks sync.Map // person id → *sync.Mutex (personLock)

	audit auditLog // the audit log (audit.go)

	// adjustments are the account adjustments by request id (accounts.go),
	// made on first use.
	adjustments map[string]store.Adjustment

	// visits are the national gateway's visits and fee details
	// (visits.go), under a mutex of their own.
	visits visitBook
	// visitLocks serialise the calls on one visit (visit_stripes.go).
	visitLocks visitStripes
}

type requestKey struct{ institution, requestID string }

type keyEntry struct {
	fingerprint  string
	settlementID string
}

type personYear struct {
	person string
	year   int
}

type institutionYear struct {
	institution string
	year        int
}

// New returns an empty store.
func New() *Store {
	s := &Store{
		persons:      map[string]*personEntry{},
		reversalKeys: map[requestKey]keyEntry{},
		budgetUsed:   map[institutionYear]engine.Money{},
		filings:      map[string]map[string]engine.Filing{},
		filingOwner:  map[string]string{},

		byInstitution: map[string][]uint32{},
		runs:          map[string]*runRecord{},
		drafts:        map[string]string{},
		contracts:     map[string]*contractRecord{},
		enrolled:      map[personYear]string{},
	}
	s.recs.init()
	return s
}

// PutPerson creates or replaces a person; a person already stored keeps
// the live account balance (p's is an opening balance).
func (s *Store) PutPerson(_ context.Context, p engine.Person) error {
	if err := store.CheckPersons(p); err != nil {
		return err
	}
	mu := s.lockPerson(p.ID)
	defer mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putPersonLocked(p)
	return nil
}

// putPersonLocked stores p, keeping the balance of a person already
// stored, with a copy of its identities: the caller keeps its slice, and
// the stored one is never changed in place (a person is replaced whole).
// The caller holds the person's lock and s.mu.
func (s *Store) putPersonLocked(p engine.Person) {
	p = clonePerson(p)
	if e, ok := s.persons[p.ID]; ok {
		p.AccountBalance = e.p.AccountBalance
		e.p = p
		return
	}
	s.persons[p.ID] = &personEntry{mu: s.personLock(p.ID), p: p}
}

// PutPersons creates or replaces many persons in one atomic step: it
// takes the locks of every person of the batch (in id order, so that two
// batches never wait for each other in a cycle), then the write lock
// once, so that neither a reader nor a settlement sees part of a batch.
// The entries apply in order, as PutPerson would.
func (s *Store) PutPersons(_ context.Context, ps []engine.Person) error {
	if len(ps) == 0 {
		return nil
	}
	if err := store.CheckPersons(ps...); err != nil {
		return err
	}
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	sort.Strings(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		mu := s.lockPerson(id)
		defer mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range ps {
		s.putPersonLocked(p)
	}
	return nil
}

// GetPerson reads a person. Returns store.ErrNotFound if there is none.
func (s *Store) GetPerson(_ context.Context, id string) (engine.Person, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.person(id)
	if !ok {
		return engine.Person{}, fmt.Errorf("person %q: %w", id, store.ErrNotFound)
	}
	return clonePerson(p), nil
}

// PutInstitution creates or replaces an institution.
func (s *Store) PutInstitution(_ context.Context, in engine.Institution) error {
	in.Budgets = append([]engine.Budget(nil), in.Budgets...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.institutions.Store(in.ID, in)
	return nil
}

// GetInstitution reads an institution. Returns store.ErrNotFound if there is none.
func (s *Store) GetInstitution(_ context.Context, id string) (engine.Institution, error) {
	in, ok := s.institution(id) // without the mutex (Store.institutions)
	if !ok {
		return engine.Institution{}, fmt.Errorf("institution %q: %w", id, store.ErrNotFound)
	}
	in.Budgets = append([]engine.Budget(nil), in.Budgets...)
	return in, nil
}

// PutPolicy stores a policy, replacing the same region, scheme and version.
// Returns a *engine.ValidationError if it overlaps another version.
func (s *Store) PutPolicy(_ context.Context, p *engine.Policy) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored := s.storedPolicies()
	if err := engine.CheckOverlap(p, stored); err != nil {
		return err
	}
	var kept []*engine.Policy
	for _, o := range stored {
		if o.Region != p.Region || o.Scheme != p.Scheme || o.Version != p.Version {
			kept = append(kept, o)
		}
	}
	kept = append(kept, p.Index())
	sort.SliceStable(kept, func(i, j int) bool {
		a, b := kept[i], kept[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Scheme != b.Scheme {
			return a.Scheme < b.Scheme
		}
		return a.EffectiveFrom.Compare(b.EffectiveFrom) < 0
	})
	s.policies.Store(&kept)
	return nil
}

// institution is the stored institution id, its budgets shared (not to be
// changed).
func (s *Store) institution(id string) (engine.Institution, bool) {
	v, ok := s.institutions.Load(id)
	if !ok {
		return engine.Institution{}, false
	}
	return v.(engine.Institution), true
}

// storedPolicies is the policies slice as PutPolicy last stored it (nil
// for none), not to be changed.
func (s *Store) storedPolicies() []*engine.Policy {
	if p := s.policies.Load(); p != nil {
		return *p
	}
	return nil
}

// Policies lists policies of a region and scheme ("" and unspecified match all).
func (s *Store) Policies(_ context.Context, region string, scheme engine.Scheme) ([]*engine.Policy, error) {
	var out []*engine.Policy
	for _, p := range s.storedPolicies() { // without the mutex (Store.policies)
		if (region == "" || p.Region == region) && (scheme == engine.SchemeUnspecified || p.Scheme == scheme) {
			out = append(out, p)
		}
	}
	return out, nil
}
