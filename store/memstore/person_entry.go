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
	// scans for a capitation contract's members; years are its
	// accumulators by year (yearAccums). All are guarded by Store.mu.
	p     engine.Person
	slots []uint32
	years []yearAccums
}

// yearAccums are a person's accumulators of one year. A person settles in
// a year or two: a short slice, scanned, costs less than a lookup in a map
// of every person-year.
type yearAccums struct {
	year int
	acc  engine.Accumulators
}

// accumulators are the person's stored accumulators of year, or new ones
// for a year without any. The maps are the stored ones, to be read only
// (readLocked).
func (e *personEntry) accumulators(year int) engine.Accumulators {
	for i := range e.years {
		if e.years[i].year == year {
			return e.years[i].acc
		}
	}
	return engine.NewAccumulators(e.p.ID, year)
}

// setAccumulators stores the person's accumulators of year, replacing
// those stored (never changed in place: readers may hold their maps).
func (e *personEntry) setAccumulators(year int, acc engine.Accumulators) {
	for i := range e.years {
		if e.years[i].year == year {
			e.years[i].acc = acc
			return
		}
	}
	e.years = append(e.years, yearAccums{year, acc})
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
