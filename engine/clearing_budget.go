package engine

import (
	"fmt"
	"sort"
)

// BudgetClearingResult is one institution's clearing under its budget
// (总额预算: 结余留用, 合理超支分担).
type BudgetClearingResult struct {
	InstitutionID string
	Budget        Money // G
	Claimed       Money // C: basic fund of its settlements of the visit types
	// Retained is the surplus share kept (C ≤ G and C ≥ min_utilization × G).
	Retained Money
	// Shared is the overspend the fund shares (C > G).
	Shared Money
	// Paid is what the fund pays: C + Retained, or G + Shared.
	Paid Money
}

// ClearBudget clears one institution with budget g that claimed c:
//   - c ≤ g: c + round(surplus_retention × (g − c)) when c ≥ min_utilization × g, else c;
//   - c > g: g + round(overspend_share × min(c − g, overspend_tolerance × g)).
//
// The comparisons and the minimum are exact; each amount is rounded once.
// It panics (ErrInvariant) only for figures far beyond MaxMoney.
func ClearBudget(bc *BudgetClearing, institutionID string, g, c Money) BudgetClearingResult {
	r := BudgetClearingResult{InstitutionID: institutionID, Budget: g, Claimed: c}
	if c.LessThanOrEqual(g) {
		if reachesShare(c, g, bc.MinUtilization) {
			r.Retained = g.Sub(c).MulRatio(bc.SurplusRetention)
		}
		r.Paid = c.Add(r.Retained)
		return r
	}
	shared, ok := mulRatioOfMin(bc.OverspendShare, c.Sub(g), bc.OverspendTolerance, g)
	if !ok {
		panic(fmt.Errorf("%w: institution %q's shared overspend leaves the range of money", ErrInvariant, institutionID))
	}
	r.Shared = shared
	r.Paid = g.Add(r.Shared)
	return r
}

// NewBudgetClearer returns the Clearer of an institution-budget run for
// year under bc (CLEARING.md). Begin receives the region's institutions:
// each with a budget G for year gets a line, even if none of its
// settlements come. Add adds a case's basic fund to its institution's
// claimed C; a case of an institution without a budget is ErrInvariant.
// Finish clears every institution with ClearBudget, by institution id:
// the summary's Budget is Σ G, PaidTotal Σ paid, Settlements the cases
// counted.
func NewBudgetClearer(bc *BudgetClearing, year int) Clearer {
	return &budgetClearer{bc: bc, year: year, accs: map[string]*budgetAcc{}}
}

// budgetClearer is the BUDGET Clearer.
type budgetClearer struct {
	bc    *BudgetClearing
	year  int
	state runState
	accs  map[string]*budgetAcc
	last  *budgetAcc
	count int64
}

// budgetAcc is one institution's budget and claims so far.
type budgetAcc struct {
	id      string
	g       Money
	claimed sumFen
	cases   int64
}

// Begin implements Clearer.
func (c *budgetClearer) Begin(in RunInputs) error {
	if err := c.state.step("Begin", stateNew, stateBegun); err != nil {
		return err
	}
	if c.bc == nil {
		return fmt.Errorf("budget clearing: %w", ErrNoClearingRules)
	}
	for _, inst := range in.Institutions {
		if _, dup := c.accs[inst.ID]; dup {
			return fmt.Errorf("%w: institution %q given twice", ErrInvariant, inst.ID)
		}
		if g, ok := inst.Budget(c.year); ok {
			c.accs[inst.ID] = &budgetAcc{id: inst.ID, g: g}
		}
	}
	return nil
}

// Add implements Clearer. It returns no case line.
func (c *budgetClearer) Add(k ClearingCase) (*CaseLine, error) {
	if c.state != stateBegun {
		return nil, c.state.step("Add", stateBegun, stateBegun)
	}
	a := c.last
	if a == nil || a.id != k.InstitutionID {
		if a = c.accs[k.InstitutionID]; a == nil {
			return nil, fmt.Errorf("%w: settlement %q of institution %q, which has no budget for %d",
				ErrInvariant, k.SettlementID, k.InstitutionID, c.year)
		}
		c.last = a
	}
	a.claimed.add(k.BasicFund)
	a.cases++
	c.count++
	return nil, nil
}

// Finish implements Clearer.
func (c *budgetClearer) Finish() (ClearingRun, error) {
	if err := c.state.step("Finish", stateBegun, stateFinished); err != nil {
		return ClearingRun{}, err
	}
	run := ClearingRun{Kind: ClearingBudget, Settlements: c.count}
	var budget, paid sumFen
	for _, a := range c.accs {
		claimed, err := a.claimed.value(fmt.Sprintf("institution %q's claimed basic fund", a.id))
		if err != nil {
			return ClearingRun{}, err
		}
		r := ClearBudget(c.bc, a.id, a.g, claimed)
		run.Institutions = append(run.Institutions, ClearingLine{
			InstitutionID: a.id, Cases: a.cases,
			Budget: r.Budget, Claimed: r.Claimed, Retained: r.Retained, Shared: r.Shared, Paid: r.Paid,
		})
		budget.add(r.Budget)
		paid.add(r.Paid)
	}
	var err error
	if run.Budget, err = budget.value("the budgets' total"); err != nil {
		return ClearingRun{}, err
	}
	if run.PaidTotal, err = paid.value("the paid total"); err != nil {
		return ClearingRun{}, err
	}
	sort.Slice(run.Institutions, func(i, j int) bool {
		return run.Institutions[i].InstitutionID < run.Institutions[j].InstitutionID
	})
	return run, nil
}
