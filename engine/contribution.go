package engine

import "fmt"

// Contribution is a policy's residents' yearly individual contribution
// (个人缴费) and the subsidies paid for it by category (资助参保; API.md
// "Contributions").
type Contribution struct {
	Amount    Money
	Subsidies []Subsidy
}

// Subsidy is what is paid towards the contribution of a person holding
// Category: all of it when Full, else Amount (counted at most the
// contribution).
type Subsidy struct {
	Category Category
	Full     bool
	Amount   Money
}

// ContributionQuote is what one person owes for a year: Payable =
// Contribution − Subsidy, with Basis the category whose subsidy applied
// (CategoryUnspecified when none did).
type ContributionQuote struct {
	Contribution Money
	Subsidy      Money
	Payable      Money
	Basis        Category
}

// value is what the subsidy pays towards a contribution of amount.
func (s Subsidy) value(amount Money) Money {
	if s.Full {
		return amount
	}
	return s.Amount.Min(amount)
}

// Quote computes what p owes with the identities held on asOf: the largest
// subsidy of the categories p holds, never two; on a tie the subsidy listed
// first is the basis.
func (c *Contribution) Quote(p Person, asOf Date) ContributionQuote {
	q := ContributionQuote{Contribution: c.Amount, Payable: c.Amount}
	for _, s := range c.Subsidies {
		if !p.HoldsCategory(s.Category, asOf) {
			continue
		}
		if v := s.value(c.Amount); q.Basis == CategoryUnspecified || v.GreaterThan(q.Subsidy) {
			q.Subsidy, q.Basis = v, s.Category.Normal()
		}
	}
	q.Payable = c.Amount.Sub(q.Subsidy)
	return q
}

// PlanTotals sums a collection plan (API.md ExportPlan's totals).
type PlanTotals struct {
	Persons      int64
	Contribution Money
	Subsidy      Money
	Payable      Money
	// ByCategory counts the persons and subsidy of each basis category,
	// indexed by Category; categories with no subsidised person are zero.
	ByCategory [CategoryPovertyAlleviated + 1]CategoryTotal
}

// CategoryTotal is the persons and the subsidy of one basis category.
type CategoryTotal struct {
	Persons int64
	Subsidy Money
}

// Add adds one person's quote. It returns an error, and adds nothing, if a
// total would leave the range of Money.
func (t *PlanTotals) Add(q ContributionQuote) error {
	c, ok1 := t.Contribution.AddChecked(q.Contribution)
	s, ok2 := t.Subsidy.AddChecked(q.Subsidy)
	p, ok3 := t.Payable.AddChecked(q.Payable)
	if !ok1 || !ok2 || !ok3 {
		return fmt.Errorf("plan totals overflow after %d persons", t.Persons)
	}
	t.Persons++
	t.Contribution, t.Subsidy, t.Payable = c, s, p
	if q.Basis != CategoryUnspecified && int(q.Basis) < len(t.ByCategory) {
		bc := &t.ByCategory[q.Basis]
		bc.Persons++
		bc.Subsidy = bc.Subsidy.Add(q.Subsidy)
	}
	return nil
}
