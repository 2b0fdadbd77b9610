package memstore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// TestVisitRecentSharedEntries opens visits whose ids all share one
// visitRecent entry and tag (same length, same last eight bytes) and reads them
// in turns, with the index's hashes colliding or not: each read finds its
// own visit, whichever the entry remembers, and an id of no visit that
// shares the entry finds none, before and after the entry is filled.
func TestVisitRecentSharedEntries(t *testing.T) {
	for _, collide := range []bool{false, true} {
		t.Run(fmt.Sprint("collide=", collide), func(t *testing.T) {
			ctx := context.Background()
			s := New()
			s.visits.index.collide = collide
			if err := s.PutPerson(ctx, engine.Person{ID: "P1", Region: "R1", Scheme: engine.SchemeEmployee}); err != nil {
				t.Fatal(err)
			}
			const n = 20
			var opened []store.Visit
			for i := range n {
				v, err := s.OpenVisit(ctx, store.Visit{ID: fmt.Sprintf("%c-same-tail", 'A'+i), InstitutionID: "H1", PersonID: "P1",
					Kind: store.VisitKindOutpatient, Number: fmt.Sprint("N", i), Scheme: engine.SchemeEmployee, MedType: "11", Begin: "b"})
				if err != nil {
					t.Fatal(err)
				}
				opened = append(opened, v)
			}
			k, tag := recentKey(opened[0].ID)
			for _, v := range opened {
				if i, vtag := recentKey(v.ID); i != k || vtag != tag {
					t.Fatalf("%s and %s do not share an entry", v.ID, opened[0].ID)
				}
			}
			absent := "z-same-tail"
			for round := range 3 {
				for i := range opened {
					v := opened[(i*7+round)%n]
					if got, err := s.GetVisit(ctx, v.ID); err != nil || got.ID != v.ID || got.Number != v.Number || got.DetailsVersion != int64(round) {
						t.Fatalf("GetVisit %s: %+v, %v; want %+v after %d uploads", v.ID, got, err, v, round)
					}
					if s.visits.recent[k].slot == 0 {
						t.Fatal("the entry remembers nothing after a read")
					}
					if _, err := s.GetVisit(ctx, absent); !errors.Is(err, store.ErrNotFound) {
						t.Fatalf("GetVisit %s: %v; want ErrNotFound", absent, err)
					}
					if err := s.PutFeeDetails(ctx, v.ID, []store.FeeDetail{detailLine(fmt.Sprint(round))}); err != nil {
						t.Fatal(err)
					}
					if _, lines, err := s.VisitDetails(ctx, v.ID, ""); err != nil || len(lines) != round+1 || lines[round].VisitID != v.ID {
						t.Fatalf("VisitDetails %s: %v, %v; want %d lines of it", v.ID, lines, err, round+1)
					}
				}
			}
		})
	}
}

// TestVisitRecentGuessOutOfRange: an entry naming a slot the book does
// not hold, or another visit's, is not taken.
func TestVisitRecentGuessOutOfRange(t *testing.T) {
	ctx := context.Background()
	s, vs := linesStore(t, 2)
	b := &s.visits
	k, tag := recentKey(vs[0].ID)
	b.recent[k] = visitRecentEntry{slot: b.slots.len() + 5, tag: tag}
	if got, err := s.GetVisit(ctx, vs[0].ID); err != nil || got.ID != vs[0].ID {
		t.Fatalf("GetVisit with a guess out of range: %+v, %v", got, err)
	}
	other, _ := b.slotOfID(vs[1].ID)
	b.recent[k] = visitRecentEntry{slot: other + 1, tag: tag}
	if got, err := s.GetVisit(ctx, vs[0].ID); err != nil || got.ID != vs[0].ID {
		t.Fatalf("GetVisit with another visit's guess: %+v, %v", got, err)
	}
	if slot, ok := b.recentSlot(vs[0].ID); !ok || slot == other {
		t.Fatalf("after the read the entry is %d, %v; want the visit's own", slot, ok)
	}
}

// TestVisitRecentOtherTag: an id whose entry is another visit's, with
// another tag, is turned away by the tag and found by the index (or not
// at all), and then takes the entry.
func TestVisitRecentOtherTag(t *testing.T) {
	ctx := context.Background()
	s, vs := linesStore(t, 1)
	b := &s.visits
	if _, err := s.GetVisit(ctx, vs[0].ID); err != nil {
		t.Fatal(err)
	}
	k, tag := recentKey(vs[0].ID)
	var other string
	for i := 0; other == ""; i++ {
		if j, jtag := recentKey(fmt.Sprint("V-other-", i)); j == k && jtag != tag {
			other = fmt.Sprint("V-other-", i)
		}
	}
	if _, ok := b.recentSlot(other); ok {
		t.Fatalf("%s took %s's entry", other, vs[0].ID)
	}
	if _, err := s.GetVisit(ctx, other); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetVisit %s: %v; want ErrNotFound", other, err)
	}
	v, err := s.OpenVisit(ctx, store.Visit{ID: other, InstitutionID: "H1", PersonID: "P1", Kind: store.VisitKindOutpatient,
		Number: "other", Scheme: engine.SchemeEmployee, MedType: "11", Begin: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetVisit(ctx, other); err != nil || got != v || b.recent[k].tag == tag {
		t.Fatalf("GetVisit %s: %+v, %v (entry tag %d, the first's %d); want it, the entry its", other, got, err, b.recent[k].tag, tag)
	}
	if got, err := s.GetVisit(ctx, vs[0].ID); err != nil || got.ID != vs[0].ID {
		t.Fatalf("GetVisit %s: %+v, %v", vs[0].ID, got, err)
	}
}
