package engine_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// addDays is d moved by n days.
func addDays(d engine.Date, n int) engine.Date {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)
	return engine.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// identities draws up to five identities of aided categories around the
// settle date d: some held on d, some ended or not yet begun, some
// starting or ending on d itself.
func (g *gen) identities(d engine.Date) []engine.Identity {
	out := make([]engine.Identity, g.intn(6))
	for i := range out {
		from := addDays(d, g.intn(70)-60)
		if g.chance(0.15) {
			from = d
		}
		to := addDays(from, g.intn(90))
		if g.chance(0.15) && from.Compare(d) <= 0 {
			to = d
		}
		out[i] = engine.Identity{Category: engine.CategoryDestitute + engine.Category(g.intn(4)), ValidFrom: from, ValidTo: to}
	}
	return out
}

// TestIdentitiesProperties settles random claims of persons with random
// identities and checks that only the categories held on the settle date
// matter: dropping the identities not held that day, or shuffling them,
// changes nothing; and a person holding exactly one category that day
// (with no undated category) settles as a person with that category
// undated and no identities.
func TestIdentitiesProperties(t *testing.T) {
	g := newGen(t)
	n := 3000
	if testing.Short() {
		n = 300
	}
	settled, heldOne := 0, 0
	for range n {
		in := g.input()
		d := in.Claim.SettleDate
		in.Person.Identities = g.identities(d)
		want, err := g.settle(in)
		if err != nil {
			continue // a claim the policy does not cover: not this test's business
		}
		settled++

		held := in
		held.Person.Identities = nil
		cats := map[engine.Category]bool{}
		for _, id := range in.Person.Identities {
			if id.Holds(d) {
				held.Person.Identities = append(held.Person.Identities, id)
				cats[id.Category] = true
			}
		}
		if got := g.mustSettle(held); !reflect.DeepEqual(got, want) {
			g.fatalf("dropping the identities not held on %s changed the result\nwith all:  %+v\nheld only: %+v\ninput: %s",
				d, want, got, dumpInput(in))
		}

		shuffled := in
		shuffled.Person.Identities = append([]engine.Identity(nil), in.Person.Identities...)
		g.r.Shuffle(len(shuffled.Person.Identities), func(i, j int) {
			shuffled.Person.Identities[i], shuffled.Person.Identities[j] = shuffled.Person.Identities[j], shuffled.Person.Identities[i]
		})
		if got := g.mustSettle(shuffled); !reflect.DeepEqual(got, want) {
			g.fatalf("the order of the identities changed the result\ninput: %s", dumpInput(in))
		}

		if in.Person.Category.Normal() == engine.CategoryOrdinary && len(cats) == 1 {
			heldOne++
			undated := in
			undated.Person.Identities = nil
			for c := range cats {
				undated.Person.Category = c
			}
			if got := g.mustSettle(undated); !reflect.DeepEqual(got, want) {
				g.fatalf("holding %s by a dated identity on %s settles unlike holding it undated\ndated:   %+v\nundated: %+v\ninput: %s",
					undated.Person.Category, d, want, got, dumpInput(in))
			}
		}
	}
	// The generator must reach the cases: most inputs settle, and many
	// persons hold exactly one category.
	if settled < n/2 || heldOne < n/20 {
		g.fatalf("only %d of %d inputs settled, %d holding one dated category", settled, n, heldOne)
	}
}
