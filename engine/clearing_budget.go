package engine

import (
	"fmt"
	"sort"

	"github.com/shopspring/decimal"
)

// BudgetClearingResult is one institution's clearing under its budget
// (总额预算: 结余留用, 合理超支分担).
type BudgetClearingResult struct {
	InstitutionID string
	Budget        decimal.Decimal // G
	Claimed       decimal.Decimal // C: basic fund of its settlements of the visit types
	// Retained is the surplus share kept (C ≤ G and C ≥ min_utilization × G).
	Retained decimal.Decimal
	// Shared is the overspend the fund shares (C > G).
	Shared decimal.Decimal
	// Paid is what the fund pays: C + Retained, or G + Shared.
	Paid decimal.Decimal
}

// ClearBudget clears one institution with budget g that claimed c:
//   - c ≤ g: c + round(surplus_retention × (g − c)) when c ≥ min_utilization × g, else c;
//   - c > g: g + round(overspend_share × min(c − g, overspend_tolerance × g)).
func ClearBudget(bc *BudgetClearing, institutionID string, g, c decimal.Decimal) BudgetClearingResult {
	r := BudgetClearingResult{InstitutionID: institutionID, Budget: g, Claimed: c}
	if c.LessThanOrEqual(g) {
		if c.GreaterThanOrEqual(bc.MinUtilization.Mul(g)) {
			r.Retained = Round2(bc.SurplusRetention.Mul(g.Sub(c)))
		}
		r.Paid = c.Add(r.Retained)
		return r
	}
	r.Shared = Round2(bc.OverspendShare.Mul(minDec(c.Sub(g), bc.OverspendTolerance.Mul(g))))
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
	g       decimal.Decimal
	claimed exactSum // fen
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
	a.claimed.add(k.BasicFund, 2)
	a.cases++
	c.count++
	return nil, nil
}

// Finish implements Clearer.
func (c *budgetClearer) Finish() (ClearingRun, error) {
	if err := c.state.step("Finish", stateBegun, stateFinished); err != nil {
		return ClearingRun{}, err
	}
	run := ClearingRun{Kind: ClearingBudget, Settlements: c.count, Budget: decimal.New(0, -2), PaidTotal: decimal.New(0, -2)}
	for _, a := range c.accs {
		r := ClearBudget(c.bc, a.id, a.g, a.claimed.value(2))
		run.Institutions = append(run.Institutions, ClearingLine{
			InstitutionID: a.id, Cases: a.cases,
			Budget: r.Budget, Claimed: r.Claimed, Retained: r.Retained, Shared: r.Shared, Paid: r.Paid,
		})
		run.Budget = run.Budget.Add(r.Budget)
		run.PaidTotal = run.PaidTotal.Add(r.Paid)
	}
	sort.Slice(run.Institutions, func(i, j int) bool {
		return run.Institutions[i].InstitutionID < run.Institutions[j].InstitutionID
	})
	return run, nil
}
