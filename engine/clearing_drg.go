package engine

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/shopspring/decimal"
)

// DRGCase is a settled, not reversed, inpatient settlement as DRG clearing
// reads it (CLEARING.md).
type DRGCase struct {
	SettlementID  string
	InstitutionID string
	// Level is the institution's level, for coefficients set by level.
	Level         int
	DRGCode       string
	Total         decimal.Decimal // medfee_sumamt: the case's cost c
	PersonalTotal decimal.Decimal
	BasicFund     decimal.Decimal
}

// CostKind says how a DRG case's cost compares with its group's average.
type CostKind int

// Cost kinds of DRG cases.
const (
	CostUnspecified CostKind = iota
	CostNormal               // points = b × k
	CostHigh                 // 费用极高: r > H, points = b × k + b × (r − H)
	CostLow                  // 费用极低: r ≤ L, points = b × r
)

// DRGCaseResult is one grouped case with its points.
type DRGCaseResult struct {
	DRGCase
	BasePoints    decimal.Decimal
	Coefficient   decimal.Decimal
	HighThreshold *decimal.Decimal // nil when the policy has no high-cost rows
	Ratio         decimal.Decimal  // r = round(c / a, 4)
	Kind          CostKind
	Points        decimal.Decimal // rounded to 4 decimals
}

// DRGInstitution is one institution's DRG statement.
type DRGInstitution struct {
	InstitutionID string
	Cases         []DRGCaseResult
	Points        decimal.Decimal
	// PersonalTotal is P_h: counted only under FUND_PLUS_PERSONAL (zero
	// under FUND_ONLY).
	PersonalTotal decimal.Decimal
	// Payment is p_h × V − P_h, rounded to the fen by largest remainder.
	Payment decimal.Decimal
	// BasicFund is what the cases drew from the basic fund item by item;
	// Difference = Payment − BasicFund (结余 when positive, 超支 when negative).
	BasicFund  decimal.Decimal
	Difference decimal.Decimal
}

// DRGResult is a DRG clearing of one region and period.
type DRGResult struct {
	// Budget is B = budget × (1 − reserve_ratio), rounded to the fen: what
	// the payments add up to exactly.
	Budget decimal.Decimal
	// Personal is P, the cases' personal totals (zero under FUND_ONLY).
	Personal    decimal.Decimal
	TotalPoints decimal.Decimal
	// PointValue is V = (B + P) / T, to 6 decimals (payments use it exactly).
	PointValue   decimal.Decimal
	Institutions []DRGInstitution // by institution id
	// Ungrouped counts the cases without a drg_code of the policy's groups,
	// left to itemized payment; UngroupedBasicFund is what they drew.
	Ungrouped          int
	UngroupedBasicFund decimal.Decimal
}

// ClearDRG clears cases under the DRG point method with the regional fund
// budget: every case's points, the point value, and each institution's
// payment, the payments adding up to B exactly. Cases whose DRG code is
// not a group of d are counted as ungrouped. Returns a *ValidationError
// for a negative budget, ErrInvariant if a result breaks an identity.
func ClearDRG(d *DRG, budget decimal.Decimal, cases []DRGCase) (DRGResult, error) {
	if budget.IsNegative() || !budget.Equal(Round2(budget)) {
		return DRGResult{}, invalidf("budget", "must be money ≥ 0, got %s", budget)
	}
	res := DRGResult{Budget: Round2(budget.Mul(one.Sub(d.ReserveRatio)))}
	groups := make(map[string]DRGGroup, len(d.Groups))
	for _, g := range d.Groups {
		groups[g.Code] = g
	}
	byInst := map[string]*DRGInstitution{}
	for _, c := range cases {
		g, ok := groups[c.DRGCode]
		if c.DRGCode == "" || !ok {
			res.Ungrouped++
			res.UngroupedBasicFund = res.UngroupedBasicFund.Add(c.BasicFund)
			continue
		}
		cr := d.casePoints(c, g)
		in := byInst[c.InstitutionID]
		if in == nil {
			in = &DRGInstitution{InstitutionID: c.InstitutionID}
			byInst[c.InstitutionID] = in
		}
		in.Cases = append(in.Cases, cr)
		in.Points = in.Points.Add(cr.Points)
		in.BasicFund = in.BasicFund.Add(c.BasicFund)
		p := personalOf(d, c)
		in.PersonalTotal = in.PersonalTotal.Add(p)
		res.Personal = res.Personal.Add(p)
		res.TotalPoints = res.TotalPoints.Add(cr.Points)
	}
	for _, in := range byInst {
		res.Institutions = append(res.Institutions, *in)
	}
	sort.Slice(res.Institutions, func(i, j int) bool { return res.Institutions[i].InstitutionID < res.Institutions[j].InstitutionID })
	if !res.TotalPoints.IsPositive() {
		// No grouped case: nothing to pay by points.
		return res, nil
	}
	// V = (B + P) / T exactly; each payment p_h × V − P_h is exact, and
	// they add up to B + P − P = B.
	v := new(big.Rat).Quo(res.Budget.Add(res.Personal).Rat(), res.TotalPoints.Rat())
	res.PointValue = roundRat(v, 6)
	shares := make([]Share, len(res.Institutions))
	for i, in := range res.Institutions {
		exact := new(big.Rat).Mul(in.Points.Rat(), v)
		exact.Sub(exact, in.PersonalTotal.Rat())
		shares[i] = Share{Key: in.InstitutionID, Exact: exact}
	}
	pay, err := AllocateFen(res.Budget, shares)
	if err != nil {
		return DRGResult{}, err
	}
	sum := decimal.Zero
	for i := range res.Institutions {
		in := &res.Institutions[i]
		in.Payment = pay[i]
		in.Difference = in.Payment.Sub(in.BasicFund)
		sum = sum.Add(in.Payment)
	}
	if !sum.Equal(res.Budget) {
		return DRGResult{}, fmt.Errorf("%w: DRG payments add up to %s, not B = %s", ErrInvariant, sum, res.Budget)
	}
	return res, nil
}

// personalOf is what a case adds to P.
func personalOf(d *DRG, c DRGCase) decimal.Decimal {
	if d.PointValueBasis == PointValueFundOnly {
		return decimal.Zero
	}
	return c.PersonalTotal
}

// casePoints scores one grouped case.
func (d *DRG) casePoints(c DRGCase, g DRGGroup) DRGCaseResult {
	cr := DRGCaseResult{DRGCase: c, BasePoints: g.BasePoints, Coefficient: d.coefficient(c.InstitutionID, c.Level)}
	cr.Ratio = roundRat(new(big.Rat).Quo(c.Total.Rat(), g.AverageCost.Rat()), 4)
	cr.HighThreshold = d.highThreshold(g.BasePoints)
	b, k, r := g.BasePoints, cr.Coefficient, cr.Ratio
	switch {
	case cr.HighThreshold != nil && r.GreaterThan(*cr.HighThreshold):
		cr.Kind = CostHigh
		cr.Points = b.Mul(k).Add(b.Mul(r.Sub(*cr.HighThreshold)))
	case r.LessThanOrEqual(d.LowRatio):
		cr.Kind = CostLow
		cr.Points = b.Mul(r)
	default:
		cr.Kind = CostNormal
		cr.Points = b.Mul(k)
	}
	cr.Points = cr.Points.Round(4)
	return cr
}

// coefficient is the institution's difference coefficient: its own row,
// else its level's, else 1.
func (d *DRG) coefficient(institutionID string, level int) decimal.Decimal {
	byLevel := one
	for _, c := range d.Coefficients {
		switch {
		case c.InstitutionID != "" && c.InstitutionID == institutionID:
			return c.Coefficient
		case c.InstitutionID == "" && c.Level == level:
			byLevel = c.Coefficient
		}
	}
	return byLevel
}

// highThreshold is H for a group's base points: the first row whose
// up_to_points ≥ base points, the last row unbounded; nil without rows.
func (d *DRG) highThreshold(basePoints decimal.Decimal) *decimal.Decimal {
	for _, h := range d.HighThresholds {
		if h.UpToPoints == nil || h.UpToPoints.GreaterThanOrEqual(basePoints) {
			r := h.Ratio
			return &r
		}
	}
	return nil
}
