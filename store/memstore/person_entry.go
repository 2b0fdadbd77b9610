package memstore

import (
	"sync"

	"github.com/medsettle/medsettle/engine"
)

// personEntry is what the store keeps of a stored person, all found by
// one lookup of Store.persons: a settlement used to look the person up
// three times (that it exists, its lock, its record) and its settlements'
// slots a fourth, each a lookup by string in a map of every person.
type personEntry struct {
	// mu is the person's lock, the very mutex lockPerson takes for its
	// id (Store.locks), kept here so that a settlement need not look it
	// up again. Set when the entry is made, never changed.
	mu *sync.Mutex
	// p is the stored person (its identities are never changed in place:
	// a reader may keep its copy of p after Store.mu is released); slots
	// are its settlements' slots (records) in commit order, what clearing
	// scans for a capitation contract's members. Both are guarded by
	// Store.mu.
	p     engine.Person
	slots []uint32
}

// personLock is the lock of person id (one per id, made on first use,
// never replaced), not taken.
func (s *Store) personLock(id string) *sync.Mutex {
	m, ok := s.locks.Load(id)
	if !ok {
		m, _ = s.locks.LoadOrStore(id, &sync.Mutex{})
	}
	return m.(*sync.Mutex)
}

// lockPerson takes the person's lock and returns it, to be unlocked.
// Loading first, a person's lock is made once, not on every call.
func (s *Store) lockPerson(id string) *sync.Mutex {
	mu := s.personLock(id)
	mu.Lock()
	return mu
}

// person is the stored person id. s.mu must be held.
func (s *Store) person(id string) (engine.Person, bool) {
	e, ok := s.persons[id]
	if !ok {
		return engine.Person{}, false
	}
	return e.p, true
}

// settlementSlots are the slots of person id's settlements in commit
// order (none for an unknown id). s.mu must be held.
func (s *Store) settlementSlots(id string) []uint32 {
	if e, ok := s.persons[id]; ok {
		return e.slots
	}
	return nil
}
