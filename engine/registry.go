package engine

// Person is an insured person.
type Person struct {
	ID                string
	Name              string
	Region            string
	Scheme            Scheme
	Employment        Employment
	Category          Category
	ContributionYears int
	AccountBalance    Money
	// Identities are the person's dated categories (SETTLEMENT.md
	// "Identities"); Category, when set, holds on every date besides them.
	Identities []Identity
}

// Identity is a category a person holds from ValidFrom to ValidTo, both
// inclusive (身份: 特困, 低保, 监测, 脱贫 as civil affairs and rural
// revitalisation offices report them).
type Identity struct {
	Category  Category
	ValidFrom Date
	ValidTo   Date
}

// Holds reports whether the identity holds on d.
func (id Identity) Holds(d Date) bool {
	return id.ValidFrom.Compare(d) <= 0 && d.Compare(id.ValidTo) <= 0
}

// HoldsCategory reports whether the person holds c on d: as an identity
// whose dates hold d, or as the undated Category. CategoryOrdinary and
// CategoryUnspecified are never held (they mean "no category").
func (p Person) HoldsCategory(c Category, d Date) bool {
	c = c.Normal()
	if c == CategoryOrdinary {
		return false
	}
	if p.Category.Normal() == c {
		return true
	}
	for _, id := range p.Identities {
		if id.Category.Normal() == c && id.Holds(d) {
			return true
		}
	}
	return false
}

// Institution is a medical institution.
type Institution struct {
	ID      string
	Name    string
	Region  string
	Level   int
	Budgets []Budget
}

// Budget is an institution's annual budget of basic-fund payments.
type Budget struct {
	Year   int
	Amount Money
}

// Budget returns the budget of a year, if the institution has one.
func (in Institution) Budget(year int) (Money, bool) {
	for _, b := range in.Budgets {
		if b.Year == year {
			return b.Amount, true
		}
	}
	return Money{}, false
}
