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
