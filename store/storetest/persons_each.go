package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// eachIDs are person ids whose byte order differs from a natural-language
// collation's (case, digits, punctuation, a multi-byte letter), so that a
// store ordering by its database's locale instead of by bytes is caught.
var eachIDs = []string{"b", "B", "a-1", "a1", "A2", "10", "9", "_x", "Z", "é", "e", "a"}

// eachFixture stores eachIDs in R1 as employees, in R1 as residents (the
// ids with "r:" before them) and in R2 as employees ("s:"), the first of
// each with identities, and returns every person put.
func eachFixture(t *testing.T, ctx context.Context, st store.Store) []engine.Person {
	t.Helper()
	var all []engine.Person
	for _, id := range eachIDs {
		all = append(all,
			engine.Person{ID: id, Name: "E " + id, Region: region, Scheme: engine.SchemeEmployee, Employment: engine.EmploymentEmployed},
			engine.Person{ID: "r:" + id, Name: "R " + id, Region: region, Scheme: engine.SchemeResident, Category: engine.CategoryDestitute},
			engine.Person{ID: "s:" + id, Name: "S " + id, Region: "R2", Scheme: engine.SchemeEmployee, ContributionYears: 3})
	}
	for i := range 3 {
		all[i].Identities = identityPerson("x").Identities[i : i+2]
	}
	if err := st.PutPersons(ctx, all); err != nil {
		t.Fatalf("PutPersons: %v", err)
	}
	return all
}

// walk collects what EachPerson hands fn.
func walk(t *testing.T, ctx context.Context, st store.Store, reg string, scheme engine.Scheme) []engine.Person {
	t.Helper()
	var got []engine.Person
	if err := st.EachPerson(ctx, reg, scheme, func(p engine.Person) error {
		got = append(got, p)
		return nil
	}); err != nil {
		t.Fatalf("EachPerson(%q, %s): %v", reg, scheme, err)
	}
	return got
}

// testEachPerson checks EachPerson's filters, its person id byte order,
// that it hands over whole persons (identities included) that are the
// caller's own, and an empty walk.
func testEachPerson(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	if got := walk(t, ctx, st, "", engine.SchemeUnspecified); len(got) != 0 {
		t.Errorf("an empty store walked %d persons", len(got))
	}
	all := eachFixture(t, ctx, st)
	for _, tc := range []struct {
		region string
		scheme engine.Scheme
	}{
		{"", engine.SchemeUnspecified},
		{region, engine.SchemeUnspecified},
		{"", engine.SchemeResident},
		{region, engine.SchemeEmployee},
		{"R2", engine.SchemeEmployee},
		{"R2", engine.SchemeResident},
		{"R9", engine.SchemeUnspecified},
		// A region no store can hold as text names no person (PostgreSQL
		// would refuse to compare it).
		{"R\x00", engine.SchemeUnspecified},
		{"R\xff", engine.SchemeEmployee},
	} {
		var want []engine.Person
		for _, p := range all {
			if (tc.region == "" || p.Region == tc.region) && (tc.scheme == engine.SchemeUnspecified || p.Scheme == tc.scheme) {
				want = append(want, p)
			}
		}
		sort.Slice(want, func(i, j int) bool { return want[i].ID < want[j].ID })
		got := walk(t, ctx, st, tc.region, tc.scheme)
		if ids(got) != ids(want) {
			t.Errorf("EachPerson(%q, %s): %s, want (byte order) %s", tc.region, tc.scheme, ids(got), ids(want))
			continue
		}
		for i := range want {
			if d := diff(got[i], want[i]); len(d) > 0 {
				t.Errorf("EachPerson(%q, %s): person %s: %v", tc.region, tc.scheme, want[i].ID, d)
			}
		}
	}
	// What fn gets is its own: changing it changes nothing stored.
	if err := st.EachPerson(ctx, region, engine.SchemeEmployee, func(p engine.Person) error {
		for i := range p.Identities {
			p.Identities[i].Category = engine.CategoryOrdinary
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range all[:3] {
		got, err := st.GetPerson(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(got, p); len(d) > 0 {
			t.Errorf("changing a person EachPerson handed over changed %s: %v", p.ID, d)
		}
	}
}

// ids joins the ids of persons.
func ids(ps []engine.Person) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return strings.Join(out, " ")
}

// testEachPersonStops checks that fn's error stops the walk and is
// returned as it is, and that a context cancelled before or during the
// walk stops it with the context's error.
func testEachPersonStops(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	eachFixture(t, ctx, st)
	stop := errors.New("stop here")
	calls := 0
	err := st.EachPerson(ctx, "", engine.SchemeUnspecified, func(engine.Person) error {
		calls++
		if calls == 4 {
			return stop
		}
		return nil
	})
	if err != stop { // returned as it is, not wrapped
		t.Errorf("fn's error: EachPerson returned %v, want the same error value", err)
	}
	if calls != 4 {
		t.Errorf("fn called %d times; the walk must stop at its error (4)", calls)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	calls = 0
	err = st.EachPerson(cancelled, "", engine.SchemeUnspecified, func(engine.Person) error { calls++; return nil })
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Errorf("cancelled before: %v after %d calls, want context.Canceled and no call", err, calls)
	}

	during, cancel := context.WithCancel(ctx)
	defer cancel()
	calls = 0
	err = st.EachPerson(during, "", engine.SchemeUnspecified, func(engine.Person) error {
		calls++
		if calls == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 2 {
		t.Errorf("cancelled during: %v after %d calls, want context.Canceled after 2", err, calls)
	}
	// The store still answers.
	if got := walk(t, ctx, st, "R2", engine.SchemeUnspecified); len(got) != len(eachIDs) {
		t.Errorf("after the stopped walks: %d persons in R2, want %d", len(got), len(eachIDs))
	}
}

// testEachPersonSnapshot checks that a walk reads one snapshot: persons
// put, replaced or settled while it runs (by fn itself, which may call
// the store) are seen as they were when it began.
func testEachPersonSnapshot(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	ctx, st := e.ctx, e.st
	before := walk(t, ctx, st, region, engine.SchemeUnspecified)
	var got []engine.Person
	err := st.EachPerson(ctx, region, engine.SchemeUnspecified, func(p engine.Person) error {
		got = append(got, p)
		if len(got) > 1 {
			return nil
		}
		// After the first person: a new person sorted last, the last
		// person renamed and given an identity, a settlement moving a
		// balance.
		if err := st.PutPerson(ctx, engine.Person{ID: "ZZZ-new", Name: "new", Region: region, Scheme: engine.SchemeResident}); err != nil {
			return fmt.Errorf("PutPerson during the walk: %w", err)
		}
		last := before[len(before)-1]
		last.Name = "renamed during the walk"
		last.Identities = []engine.Identity{ident(engine.CategoryMonitored, jan1st2024, dec31st24)}
		if err := st.PutPerson(ctx, last); err != nil {
			return fmt.Errorf("PutPerson during the walk: %w", err)
		}
		_, err := e.settle(inpatient("EACH-1", hospNoBudget, before[1].ID, day2024, "2000"))
		return err
	})
	if err != nil {
		t.Fatalf("EachPerson: %v", err)
	}
	if d := diff(got, before); len(d) > 0 {
		t.Errorf("the walk saw changes made after it began: %v", d)
	}
	after := walk(t, ctx, st, region, engine.SchemeUnspecified)
	if len(after) != len(before)+1 || after[len(after)-1].ID != "ZZZ-new" {
		t.Errorf("after the walk: %s, want the new person last", ids(after))
	}
}
