package pgstore

import (
	"context"
	"errors"

	"github.com/medsettle/medsettle/engine"
)

// EachPerson implements store.Store.
func (s *Store) EachPerson(ctx context.Context, region string, scheme engine.Scheme, fn func(engine.Person) error) error {
	return errors.New("EachPerson: not implemented yet")
}
