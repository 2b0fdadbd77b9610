package engine

// validateContribution records every problem of a policy's contribution
// section under path ("policy.contribution"): a negative amount; more
// than MaxRows subsidies; and for each subsidy a category that is not
// subsidised (unspecified and ordinary mean "no category"), a category
// listed twice, full together with an amount, a fixed amount that is not
// above 0, and a fixed amount above the contribution (a fixed subsidy
// pays at most the contribution: one above it is a mistake in the
// document, not a larger subsidy).
//
// A missing amount cannot be told from 0.00 here: the API reports it as
// it reads the document.
func validateContribution(v *Violations, path string, c *Contribution) {
	if c.Amount.IsNegative() {
		v.Addf(path+".amount", "must not be negative, got %s", c.Amount)
	}
	subsidies := path + ".subsidies"
	if len(c.Subsidies) > MaxRows {
		v.Addf(subsidies, "has %d rows; at most %d are allowed", len(c.Subsidies), MaxRows)
		return
	}
	first := map[Category]int{}
	for i, s := range c.Subsidies {
		if !s.Category.subsidised() {
			v.AddAtf(IndexPath(subsidies, i, "category"),
				"must be a category that is subsidised: PERSON_CATEGORY_DESTITUTE, _MINIMUM_LIVING, _MONITORED or _POVERTY_ALLEVIATED (got %s)", s.Category)
		} else if j, dup := first[s.Category]; dup {
			v.AddAtf(IndexPath(subsidies, i, "category"), "%s is listed twice (also subsidies[%d]): a category has one subsidy", s.Category, j)
		} else {
			first[s.Category] = i
		}
		amount := IndexPath(subsidies, i, "amount")
		switch {
		case s.Full && !s.Amount.IsZero():
			v.AddAtf(amount, "must be empty when full is set: give exactly one of full or amount")
		case s.Full:
		case !s.Amount.IsPositive():
			v.AddAtf(amount, "must be greater than 0 unless full is set: give exactly one of full or amount, got %s", s.Amount)
		case s.Amount.GreaterThan(c.Amount) && !c.Amount.IsNegative():
			v.AddAtf(amount, "subsidy above the contribution: %s is more than the contribution %s (set full for a subsidy of all of it)", s.Amount, c.Amount)
		}
	}
}

// subsidised reports whether c is a category a subsidy can name: one a
// person holds (DESTITUTE, MINIMUM_LIVING, MONITORED, POVERTY_ALLEVIATED).
func (c Category) subsidised() bool {
	return c >= CategoryDestitute && c <= CategoryPovertyAlleviated
}
