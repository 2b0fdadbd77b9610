package engine

import "github.com/shopspring/decimal"

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
