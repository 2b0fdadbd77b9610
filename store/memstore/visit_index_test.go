package memstore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/storetest"
)

// TestVisitConformanceAllHashesCollide runs the store contract with every
// visit id and every visit number hashed to the same number, so that all
// but the first of each go through the overflow maps and every hit is
// told apart by the visit it names.
func TestVisitConformanceAllHashesCollide(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := New()
		s.visits.index.collide = true
		return s
	})
}

// TestVisitIndexCollisions: with every hash colliding, each visit is found
// by its id and its number (the first through the hash maps, the others
// through the overflow maps), an id or number of no visit finds none
// (the hash's visit is checked), and a taken id is refused.
func TestVisitIndexCollisions(t *testing.T) {
	ctx := context.Background()
	s := New()
	s.visits.index.collide = true
	for _, p := range []string{"P1", "P2"} {
		if err := s.PutPerson(ctx, engine.Person{ID: p, Region: "R1", Scheme: engine.SchemeEmployee}); err != nil {
			t.Fatal(err)
		}
	}
	visit := func(i int, kind store.VisitKind) store.Visit {
		return store.Visit{ID: fmt.Sprintf("V%03d-%d", i, kind), InstitutionID: fmt.Sprintf("H%d", i%3), PersonID: fmt.Sprintf("P%d", 1+i%2),
			Kind: kind, Number: fmt.Sprintf("N%d", i), Scheme: engine.SchemeEmployee, MedType: "11", Begin: "2025-06-02 09:30:00"}
	}
	const n = 40
	var opened []store.Visit
	for i := range n {
		for _, kind := range []store.VisitKind{store.VisitKindOutpatient, store.VisitKindInpatient} {
			v, err := s.OpenVisit(ctx, visit(i, kind))
			if err != nil {
				t.Fatal(err)
			}
			opened = append(opened, v)
		}
	}
	x := &s.visits.index
	if len(x.byID.byHash) != 1 || len(x.byID.overflow) != 2*n-1 || len(x.byNumber.byHash) != 1 || len(x.byNumber.overflow) != 2*n-1 {
		t.Fatalf("indexes hold %d+%d ids and %d+%d numbers; want every hash colliding", len(x.byID.byHash), len(x.byID.overflow), len(x.byNumber.byHash), len(x.byNumber.overflow))
	}
	for i, want := range opened {
		if got, err := s.GetVisit(ctx, want.ID); err != nil || got != want {
			t.Errorf("GetVisit %s: %+v, %v; want %+v", want.ID, got, err, want)
		}
		again := visit(i/2, want.Kind)
		again.ID, again.PersonID = "", "P9" // a retry: the number decides
		if got, err := s.OpenVisit(ctx, again); err != nil || got != want {
			t.Errorf("OpenVisit %s again: %+v, %v; want %+v", want.Number, got, err, want)
		}
	}
	// The first visit is the one the hash maps name: an id or number that
	// is not its own must not be taken for it.
	for _, id := range []string{"V999-1", "", opened[0].ID + "x"} {
		if _, err := s.GetVisit(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetVisit %q: %v, want ErrNotFound", id, err)
		}
	}
	fresh := visit(n, store.VisitKindOutpatient)
	fresh.ID = opened[0].ID
	if _, err := s.OpenVisit(ctx, fresh); !errors.Is(err, store.ErrConflict) {
		t.Errorf("OpenVisit with a taken id: %v, want ErrConflict", err)
	}
	fresh.ID = opened[5].ID
	if _, err := s.OpenVisit(ctx, fresh); !errors.Is(err, store.ErrConflict) {
		t.Errorf("OpenVisit with a taken (overflow) id: %v, want ErrConflict", err)
	}
	fresh.ID = ""
	v, err := s.OpenVisit(ctx, fresh)
	if err != nil || v.Number != fresh.Number {
		t.Fatalf("OpenVisit %s: %+v, %v", fresh.Number, v, err)
	}
	if got, err := s.GetVisit(ctx, v.ID); err != nil || got != v {
		t.Errorf("GetVisit %s: %+v, %v; want %+v", v.ID, got, err, v)
	}
}
