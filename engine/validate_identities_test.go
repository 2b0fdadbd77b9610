package engine_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// violationFields lists the fields a validation error names, in order.
func violationFields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *engine.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, engine.ErrInvalid) {
		t.Fatalf("%v is not a *ValidationError wrapping ErrInvalid", err)
	}
	out := make([]string, len(ve.Violations))
	for i, v := range ve.Violations {
		out[i] = v.Field
	}
	return out
}

// TestValidateIdentitiesAccepts: no identities; several categories at
// once; periods of one category that touch without overlapping; a
// one-day identity.
func TestValidateIdentitiesAccepts(t *testing.T) {
	for name, ids := range map[string][]engine.Identity{
		"none": nil,
		"overlapping categories": {held(engine.CategoryMonitored, 1, 1, 12, 31), held(engine.CategoryMinimumLiving, 3, 1, 8, 31),
			held(engine.CategoryDestitute, 5, 1, 5, 31), held(engine.CategoryPovertyAlleviated, 1, 1, 1, 1)},
		"consecutive periods of one category": {held(engine.CategoryMonitored, 7, 1, 12, 31), held(engine.CategoryMonitored, 1, 1, 6, 30)},
	} {
		if err := engine.ValidateIdentities("person.identities", ids); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	most := make([]engine.Identity, engine.MaxIdentities)
	for i := range most {
		most[i] = engine.Identity{Category: engine.CategoryMonitored,
			ValidFrom: engine.Date{Year: 2000 + i, Month: 1, Day: 1}, ValidTo: engine.Date{Year: 2000 + i, Month: 12, Day: 31}}
	}
	if err := engine.ValidateIdentities("person.identities", most); err != nil {
		t.Errorf("%d identities: %v", engine.MaxIdentities, err)
	}
}

// TestValidateIdentitiesNamesEveryProblem: every bad field of every entry
// is named, once, in entry order.
func TestValidateIdentitiesNamesEveryProblem(t *testing.T) {
	ids := []engine.Identity{
		held(engine.CategoryMonitored, 1, 1, 6, 30),                                      // 0: fine
		{Category: engine.CategoryUnspecified, ValidFrom: d26(1, 1), ValidTo: d26(2, 1)}, // 1: no category
		{Category: engine.CategoryOrdinary},                                              // 2: ordinary, no dates
		{Category: engine.Category(9), ValidFrom: d26(5, 1), ValidTo: d26(4, 30)},        // 3: unknown, ends before it starts
		held(engine.CategoryMonitored, 6, 30, 9, 30),                                     // 4: overlaps 0 by one day
		held(engine.CategoryMonitored, 1, 1, 6, 30),                                      // 5: the same as 0
		{Category: engine.CategoryDestitute, ValidTo: d26(3, 1)},                         // 6: no valid_from
	}
	err := engine.ValidateIdentities("person.identities", ids)
	got := violationFields(t, err)
	wantFields := []string{
		"person.identities[1].category",
		"person.identities[2].category", "person.identities[2].valid_from", "person.identities[2].valid_to",
		"person.identities[3].category", "person.identities[3].valid_to",
		"person.identities[4]",
		"person.identities[5]",
		"person.identities[6].valid_from",
	}
	if !slices.Equal(got, wantFields) {
		t.Fatalf("fields\n  %v\nwant\n  %v\n(%v)", got, wantFields, err)
	}
	for _, part := range []string{
		"person.identities[3].valid_to: 2026-04-30 is before valid_from 2026-05-01",
		"person.identities[4]: PERSON_CATEGORY_MONITORED from 2026-06-30 to 2026-09-30 overlaps identities[0] (2026-01-01 to 2026-06-30)",
		"person.identities[1].category: must be a category a person holds",
		"(got PERSON_CATEGORY(9))",
	} {
		var all []string
		var ve *engine.ValidationError
		errors.As(err, &ve)
		for _, v := range ve.Violations {
			all = append(all, v.Field+": "+v.Description)
		}
		if !strings.Contains(strings.Join(all, "\n"), part) {
			t.Errorf("no violation says %q:\n%s", part, strings.Join(all, "\n"))
		}
	}
}

// TestValidateIdentitiesTooMany: above MaxIdentities the list itself is
// refused, with one violation rather than one per entry.
func TestValidateIdentitiesTooMany(t *testing.T) {
	ids := make([]engine.Identity, engine.MaxIdentities+1)
	got := violationFields(t, engine.ValidateIdentities("person.identities", ids))
	if !slices.Equal(got, []string{"person.identities"}) {
		t.Errorf("fields %v, want [person.identities]", got)
	}
}
