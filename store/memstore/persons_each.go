package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/medsettle/medsettle/engine"
)

// EachPerson implements store.Store. The consistent snapshot is a copy,
// taken under the read lock, of the matching persons (values sharing the
// stored strings and identities, which the store never changes in place),
// sorted by id bytes; fn then runs without the lock, so that it may call
// the store, and gets each person with its own copy of the identities.
// Unlike pgstore, which streams, the snapshot holds one engine.Person value
// per matching person (about 130 bytes each besides the stored data): the
// embedded store keeps every person in memory anyway.
func (s *Store) EachPerson(ctx context.Context, region string, scheme engine.Scheme, fn func(engine.Person) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	var matched []engine.Person
	for _, e := range s.persons {
		p := e.p
		if (region == "" || p.Region == region) && (scheme == engine.SchemeUnspecified || p.Scheme == scheme) {
			matched = append(matched, p)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(matched, func(a, b engine.Person) int { return strings.Compare(a.ID, b.ID) })
	for _, p := range matched {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(clonePerson(p)); err != nil {
			return err
		}
	}
	return nil
}
