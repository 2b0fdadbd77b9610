package api

import (
	"context"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// visitDetailsPersonReader is a store that reads a visit, its live fee
// details of a batch and a person in one round trip
// (pgstore.Store.VisitDetailsPerson).
type visitDetailsPersonReader interface {
	VisitDetailsPerson(ctx context.Context, id, batch, personID string) (store.Visit, []store.FeeDetail, engine.Person, error, error)
}

// VisitDetailsPerson is VisitDetails and then GetPerson(personID), each
// bounded as they are: in one round trip bounded by the unary limit when
// the store can (pgstore: the national gateway's settlement then reads
// its person with its visit), else as those two operations. The visit's
// error is the call's, and the person is then not read; the person's
// (store.ErrNotFound when there is none) is returned apart, as personErr,
// with the visit and its details.
func (s *timedVisitStore) VisitDetailsPerson(ctx context.Context, id, batch, personID string) (v store.Visit, details []store.FeeDetail, p engine.Person, personErr, err error) {
	r, ok := s.visits.(visitDetailsPersonReader)
	if !ok {
		if v, details, err = s.VisitDetails(ctx, id, batch); err != nil {
			return store.Visit{}, nil, engine.Person{}, nil, err
		}
		p, personErr = s.GetPerson(ctx, personID)
		return v, details, p, personErr, nil
	}
	type read struct {
		v         store.Visit
		details   []store.FeeDetail
		p         engine.Person
		personErr error
	}
	got, err := timed(ctx, s.metrics, s.limits.Unary, "VisitDetailsPerson", func(ctx context.Context) (read, error) {
		v, details, p, personErr, err := r.VisitDetailsPerson(ctx, id, batch, personID)
		return read{v, details, p, personErr}, err
	})
	if err != nil {
		return store.Visit{}, nil, engine.Person{}, nil, err
	}
	return got.v, got.details, got.p, got.personErr, nil
}
