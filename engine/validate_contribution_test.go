package engine_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// contributionPolicy is the smallest valid policy with the given
// contribution section.
func contributionPolicy(c *engine.Contribution) *engine.Policy {
	return &engine.Policy{Region: "340600", Scheme: engine.SchemeResident, Version: "2024.1",
		EffectiveFrom: engine.Date{Year: 2024, Month: 1, Day: 1}, EffectiveTo: engine.Date{Year: 2024, Month: 12, Day: 31},
		Contribution: c}
}

// seed003Contribution is seed 003's contribution section: 380.00;
// DESTITUTE full, MINIMUM_LIVING 340.00, MONITORED 190.00.
func seed003Contribution() *engine.Contribution {
	return &engine.Contribution{Amount: engine.MustMoney("380"), Subsidies: []engine.Subsidy{
		{Category: engine.CategoryDestitute, Full: true},
		{Category: engine.CategoryMinimumLiving, Amount: engine.MustMoney("340")},
		{Category: engine.CategoryMonitored, Amount: engine.MustMoney("190")},
	}}
}

// contributionViolations returns the violations of err, failing the test
// unless err is a *ValidationError.
func contributionViolations(t *testing.T, err error) []engine.Violation {
	t.Helper()
	var ve *engine.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("%v is not a *ValidationError", err)
	}
	return ve.Violations
}

// TestContributionValid: seed 003's section, a subsidy equal to the
// contribution, a contribution of 0.00 with a full subsidy, no subsidies
// at all, and every subsidised category once are all accepted.
func TestContributionValid(t *testing.T) {
	all := &engine.Contribution{Amount: engine.MustMoney("380")}
	for c := engine.CategoryDestitute; c <= engine.CategoryPovertyAlleviated; c++ {
		all.Subsidies = append(all.Subsidies, engine.Subsidy{Category: c, Amount: engine.MustMoney("0.01")})
	}
	for name, c := range map[string]*engine.Contribution{
		"seed 003":          seed003Contribution(),
		"equal":             {Amount: engine.MustMoney("380"), Subsidies: []engine.Subsidy{{Category: engine.CategoryMonitored, Amount: engine.MustMoney("380")}}},
		"free":              {Amount: engine.MustMoney("0"), Subsidies: []engine.Subsidy{{Category: engine.CategoryDestitute, Full: true}}},
		"no subsidies":      {Amount: engine.MustMoney("380")},
		"every category":    all,
		"no section at all": nil,
	} {
		if err := engine.ValidatePolicy(contributionPolicy(c)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestContributionViolations: every problem of a bad section is listed,
// each under its own field path, in the order of the document.
func TestContributionViolations(t *testing.T) {
	c := &engine.Contribution{Amount: engine.MustMoney("380"), Subsidies: []engine.Subsidy{
		{Category: engine.CategoryDestitute, Full: true},                                      // 0: fine
		{Category: engine.CategoryOrdinary, Amount: engine.MustMoney("10")},                   // 1: not subsidised
		{Category: engine.CategoryUnspecified, Amount: engine.MustMoney("10")},                // 2: not subsidised
		{Category: engine.CategoryMinimumLiving, Full: true, Amount: engine.MustMoney("340")}, // 3: both
		{Category: engine.CategoryMonitored},                                                  // 4: neither
		{Category: engine.CategoryPovertyAlleviated, Amount: engine.MustMoney("380.01")},      // 5: above
		{Category: engine.CategoryDestitute, Amount: engine.MustMoney("-1")},                  // 6: twice, and not > 0
		engine.Subsidy{Category: engine.Category(9), Amount: engine.MustMoney("1")},           // 7: unknown
	}}
	got := contributionViolations(t, engine.ValidatePolicy(contributionPolicy(c)))
	const sub = "policy.contribution.subsidies"
	want := []engine.Violation{
		{Field: sub + "[1].category", Description: "must be a category that is subsidised: PERSON_CATEGORY_DESTITUTE, _MINIMUM_LIVING, _MONITORED or _POVERTY_ALLEVIATED (got PERSON_CATEGORY_ORDINARY)"},
		{Field: sub + "[2].category", Description: "must be a category that is subsidised: PERSON_CATEGORY_DESTITUTE, _MINIMUM_LIVING, _MONITORED or _POVERTY_ALLEVIATED (got PERSON_CATEGORY_UNSPECIFIED)"},
		{Field: sub + "[3].amount", Description: "must be empty when full is set: give exactly one of full or amount"},
		{Field: sub + "[4].amount", Description: "must be greater than 0 unless full is set: give exactly one of full or amount, got 0.00"},
		{Field: sub + "[5].amount", Description: "subsidy above the contribution: 380.01 is more than the contribution 380.00 (set full for a subsidy of all of it)"},
		{Field: sub + "[6].category", Description: "PERSON_CATEGORY_DESTITUTE is listed twice (also subsidies[0]): a category has one subsidy"},
		{Field: sub + "[6].amount", Description: "must be greater than 0 unless full is set: give exactly one of full or amount, got -1.00"},
		{Field: sub + "[7].category", Description: "must be a category that is subsidised: PERSON_CATEGORY_DESTITUTE, _MINIMUM_LIVING, _MONITORED or _POVERTY_ALLEVIATED (got PERSON_CATEGORY(9))"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("violations\n%s\nwant\n%s", violationLines(got), violationLines(want))
	}
}

// TestContributionNegativeAmount: a negative contribution is refused; the
// subsidies are not then called above it.
func TestContributionNegativeAmount(t *testing.T) {
	c := seed003Contribution()
	c.Amount = engine.MustMoney("-0.01")
	got := contributionViolations(t, engine.ValidatePolicy(contributionPolicy(c)))
	want := []engine.Violation{{Field: "policy.contribution.amount", Description: "must not be negative, got -0.01"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("violations\n%s\nwant\n%s", violationLines(got), violationLines(want))
	}
}

// TestContributionAboveZero: with a contribution of 0.00 every fixed
// subsidy is above it.
func TestContributionAboveZero(t *testing.T) {
	c := seed003Contribution()
	c.Amount = engine.Money{}
	got := contributionViolations(t, engine.ValidatePolicy(contributionPolicy(c)))
	var fields []string
	for _, v := range got {
		fields = append(fields, v.Field)
	}
	if want := "policy.contribution.subsidies[1].amount policy.contribution.subsidies[2].amount"; strings.Join(fields, " ") != want {
		t.Errorf("violations %v, want %s", fields, want)
	}
}

// TestContributionRowLimit: more than engine.MaxRows subsidies is one
// violation naming the list, not one a row.
func TestContributionRowLimit(t *testing.T) {
	c := &engine.Contribution{Amount: engine.MustMoney("380")}
	for range engine.MaxRows + 1 {
		c.Subsidies = append(c.Subsidies, engine.Subsidy{Category: engine.CategoryDestitute, Full: true})
	}
	got := contributionViolations(t, engine.ValidatePolicy(contributionPolicy(c)))
	want := []engine.Violation{{Field: "policy.contribution.subsidies", Description: fmt.Sprintf("has %d rows; at most %d are allowed", engine.MaxRows+1, engine.MaxRows)}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("violations\n%s\nwant\n%s", violationLines(got), violationLines(want))
	}
	c.Subsidies = c.Subsidies[:engine.MaxRows]
	got = contributionViolations(t, engine.ValidatePolicy(contributionPolicy(c)))
	if len(got) != engine.MaxRows-1 { // every row after the first names the category twice
		t.Errorf("%d violations for %d rows of one category, want %d", len(got), engine.MaxRows, engine.MaxRows-1)
	}
}

// violationLines renders violations one a line.
func violationLines(vs []engine.Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString(v.Field + ": " + v.Description + "\n")
	}
	return b.String()
}
