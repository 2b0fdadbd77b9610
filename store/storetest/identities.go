package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// ident is a dated identity from..to.
func ident(c engine.Category, from, to engine.Date) engine.Identity {
	return engine.Identity{Category: c, ValidFrom: from, ValidTo: to}
}

// Identity dates of the fixtures.
var (
	jun30th2024 = engine.Date{Year: 2024, Month: time.June, Day: 30}
	jul1st2024  = engine.Date{Year: 2024, Month: time.July, Day: 1}
	mar14th2024 = engine.Date{Year: 2024, Month: time.March, Day: 14}
	// The last date a YYYYMMDD encoding or a date type could get wrong.
	dec31st9999 = engine.Date{Year: 9999, Month: time.December, Day: 31}
	feb29th2028 = engine.Date{Year: 2028, Month: time.February, Day: 29}
)

// identityPerson is an employee holding several identities: MINIMUM_LIVING
// and MONITORED at once in the first half of 2024 (overlapping, of
// different categories), DESTITUTE from July, and identities with edge
// dates; its undated category is ordinary.
func identityPerson(id string) engine.Person {
	return engine.Person{ID: id, Name: "Identity " + id, Region: region, Scheme: engine.SchemeEmployee,
		Employment: engine.EmploymentEmployed, Category: engine.CategoryOrdinary, ContributionYears: 7,
		AccountBalance: dec("20.00"),
		Identities: []engine.Identity{
			ident(engine.CategoryMinimumLiving, jan1st2024, jun30th2024),
			ident(engine.CategoryMonitored, jan1st2024, dec31st24),
			ident(engine.CategoryDestitute, jul1st2024, dec31st24),
			ident(engine.CategoryPovertyAlleviated, feb29th2028, dec31st9999),
		}}
}

// testIdentities checks that a person's identities are stored whole, in
// the order given, by PutPerson and PutPersons; that every read of a
// person returns them (GetPerson, Snapshot, the state a settlement
// computes on, AdjustAccount's answer); that replacing a person replaces
// them; and that neither the slice given nor the slices returned are
// shared with the store.
func testIdentities(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	ctx, st := e.ctx, e.st
	get := func(what, id string) engine.Person {
		t.Helper()
		p, err := st.GetPerson(ctx, id)
		if err != nil {
			t.Fatalf("%s: GetPerson %s: %v", what, id, err)
		}
		return p
	}

	// PutPerson: every field, the identities in the order given.
	want := identityPerson("ID1")
	given := identityPerson("ID1")
	if err := st.PutPerson(ctx, given); err != nil {
		t.Fatalf("PutPerson: %v", err)
	}
	given.Identities[0].Category = engine.CategoryDestitute // the caller's slice is its own
	if d := diff(get("after PutPerson", want.ID), want); len(d) > 0 {
		t.Errorf("GetPerson after PutPerson: %v", d)
	}
	got := get("scribble", want.ID)
	got.Identities[1].ValidTo = jan1st2024
	if d := diff(get("after changing what GetPerson returned", want.ID), want); len(d) > 0 {
		t.Errorf("changing what GetPerson returned changed the store: %v", d)
	}

	// Snapshot and the state handed to a settlement's compute.
	snap := e.snap(want.ID, hospBudget, 2024)
	if d := diff(snap.Person, want); len(d) > 0 {
		t.Errorf("Snapshot's person: %v", d)
	}
	snap.Person.Identities[2].Category = engine.CategoryMonitored
	if d := diff(e.snap(want.ID, hospBudget, 2024).Person, want); len(d) > 0 {
		t.Errorf("changing a snapshot's identities changed the store: %v", d)
	}
	var seen engine.Person
	claim := inpatient("ID-REQ-1", hospNoBudget, want.ID, day2024, "6000")
	if _, err := st.Settle(ctx, claim, func(py store.PersonYear) (engine.Result, error) {
		seen = py.Person
		return e.compute(claim)(py)
	}); err != nil {
		t.Fatalf("Settle: %v", err)
	}
	if d := diff(seen, want); len(d) > 0 {
		t.Errorf("the person a settlement computed on: %v", d)
	}

	// AdjustAccount answers the whole person, identities included, and
	// leaves them as they are.
	adj, err := st.AdjustAccount(ctx, store.Adjustment{RequestID: "ID-ADJ", PersonID: want.ID, Credit: dec("1.00"), Reason: "r", By: "admin"})
	if err != nil {
		t.Fatalf("AdjustAccount: %v", err)
	}
	if d := diff(adj.Person.Identities, want.Identities); len(d) > 0 {
		t.Errorf("AdjustAccount's person: identities %v", d)
	}
	adj.Person.Identities[0].ValidFrom = jul1st2024
	if d := diff(get("after AdjustAccount", want.ID).Identities, want.Identities); len(d) > 0 {
		t.Errorf("after AdjustAccount: identities %v", d)
	}

	// Replacing a person replaces its identities: with others, then none.
	repl := get("before replace", want.ID)
	repl.Identities = []engine.Identity{ident(engine.CategoryMonitored, mar14th2024, mar14th2024)}
	if err := st.PutPerson(ctx, repl); err != nil {
		t.Fatalf("PutPerson (replace): %v", err)
	}
	if d := diff(get("after replace", want.ID), repl); len(d) > 0 {
		t.Errorf("GetPerson after replace: %v", d)
	}
	repl.Identities = nil
	if err := st.PutPerson(ctx, repl); err != nil {
		t.Fatalf("PutPerson (no identities): %v", err)
	}
	if got := get("after removing", want.ID); len(got.Identities) != 0 {
		t.Errorf("identities after a replacement without any: %+v, want none", got.Identities)
	}

	// PutPersons: a batch mixing persons with and without identities; a
	// repeated id's last entry wins, identities included.
	batch := []engine.Person{identityPerson("ID2"), identityPerson("ID3"), persons()[0], identityPerson("ID2")}
	batch[0].Identities = batch[0].Identities[:1]
	batch[1].Identities = batch[1].Identities[3:]
	batch[2].ID = "ID4"
	batch[3].Identities = []engine.Identity{ident(engine.CategoryDestitute, jan1st2025, dec31st25)}
	if err := st.PutPersons(ctx, batch); err != nil {
		t.Fatalf("PutPersons: %v", err)
	}
	for _, w := range []engine.Person{batch[3], batch[1], batch[2]} {
		if d := diff(get("after PutPersons", w.ID), w); len(d) > 0 {
			t.Errorf("GetPerson %s after PutPersons: %v", w.ID, d)
		}
	}
	// The persons the fixtures put without identities still have none.
	for _, p := range persons() {
		if got := get("fixture", p.ID); len(got.Identities) != 0 {
			t.Errorf("fixture %s has identities %+v, put without any", p.ID, got.Identities)
		}
	}
}

// testIdentitiesDecideSettlement checks that a settlement computes on the
// identities held on its settle date, through the store's own read of the
// person, on the single and the grouped paths: the fixture policy aids
// MINIMUM_LIVING, held here only from July to December 2024.
func testIdentitiesDecideSettlement(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	ids := []string{"IDS1", "IDS2", "IDS3", "IDS4"}
	for _, id := range ids {
		p := identityPerson(id)
		p.Identities = []engine.Identity{ident(engine.CategoryMinimumLiving, jul1st2024, dec31st24)}
		if err := e.st.PutPerson(e.ctx, p); err != nil {
			t.Fatalf("PutPerson %s: %v", id, err)
		}
	}
	// Before July: no aid. Concurrently, so that a store that groups
	// settlements reads several persons at once.
	var wg sync.WaitGroup
	results := make([]engine.Settlement, len(ids))
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.settle(inpatient("IDS-A-"+id, hospNoBudget, id, jun30th2024, "30000"))
		}()
	}
	wg.Wait()
	for i, id := range ids {
		if errs[i] != nil {
			t.Fatalf("Settle %s on 2024-06-30: %v", id, errs[i])
		}
		if got := results[i].Result.Breakdown.MedicalAid; !got.IsZero() {
			t.Errorf("%s on 2024-06-30, before its MINIMUM_LIVING identity: medical aid %s, want 0.00", id, got)
		}
	}
	// From July: aided, on the year's aid totals so far.
	st := e.mustSettle(inpatient("IDS-B", hospNoBudget, ids[0], jul1st2024, "30000"))
	want := e.expected(ids[0], inpatient("IDS-B", hospNoBudget, ids[0], jul1st2024, "30000"), results[0])
	if got := st.Result.Breakdown.MedicalAid; !got.Equal(want) || !got.IsPositive() {
		t.Errorf("%s on 2024-07-01: medical aid %s, want %s (> 0)", ids[0], got, want)
	}
}

// expected is the medical aid the engine pays for claim c of person id
// settled after prev, computed here on the person as put (not as read).
func (e *env) expected(id string, c engine.Claim, prev engine.Settlement) engine.Money {
	e.t.Helper()
	p := identityPerson(id)
	p.Identities = []engine.Identity{ident(engine.CategoryMinimumLiving, jul1st2024, dec31st24)}
	pol, err := engine.SelectPolicy(e.policies, p.Region, p.Scheme, c.SettleDate)
	if err != nil {
		e.t.Fatal(err)
	}
	acc := engine.NewAccumulators(id, c.Year())
	acc = engine.SettleChanges(prev.Claim, prev.Result).ApplyAccumulators(acc)
	res, err := engine.Settle(engine.Input{Policy: pol, Person: p, Institution: e.insts[c.InstitutionID], Claim: c, Accumulators: acc})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Breakdown.MedicalAid
}

// testIdentitiesRefused checks that a store refuses, whole and before
// writing anything, persons whose identities no read would accept (an
// ORDINARY identity, a missing date, dates out of order), through
// PutPerson and PutPersons alike, so that a caller bypassing the API's
// validation cannot leave a person that can no longer be read or settle.
func testIdentitiesRefused(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	ctx, st := e.ctx, e.st
	bad := map[string][]engine.Identity{
		"ordinary":     {ident(engine.CategoryOrdinary, jan1st2024, dec31st24)},
		"unspecified":  {ident(engine.CategoryUnspecified, jan1st2024, dec31st24)},
		"no valid_to":  {{Category: engine.CategoryMonitored, ValidFrom: jan1st2024}},
		"out of order": {ident(engine.CategoryMonitored, dec31st24, jan1st2024)},
		"unknown code": {ident(engine.Category(99), jan1st2024, dec31st24)},
	}
	for name, ids := range bad {
		p := identityPerson("REF-" + name)
		p.Identities = ids
		var ve *engine.ValidationError
		if err := st.PutPerson(ctx, p); !errors.As(err, &ve) {
			t.Errorf("%s: PutPerson: %v, want a validation error", name, err)
		}
		good := identityPerson("REF-GOOD-" + name)
		if err := st.PutPersons(ctx, []engine.Person{good, p}); !errors.As(err, &ve) {
			t.Errorf("%s: PutPersons: %v, want a validation error", name, err)
		}
		for _, id := range []string{p.ID, good.ID} {
			if _, err := st.GetPerson(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: GetPerson %s after the refusals: %v, want ErrNotFound", name, id, err)
			}
		}
	}
}
