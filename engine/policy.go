package engine

// Policy is one version of a region's benefit rules for one scheme.
type Policy struct {
	Region                  string
	Scheme                  Scheme
	Version                 string
	EffectiveFrom           Date
	EffectiveTo             Date
	UnknownItem             UnknownItem
	Catalog                 []CatalogEntry
	Benefits                []Benefit
	CapPools                []CapPool
	UnregisteredRatioCut    Ratio
	Catastrophic            *Catastrophic
	MedicalAid              []AidRule
	AccountCoversOutOfScope bool
	// BudgetWarnRatio is nil when unset (0.9 applies).
	BudgetWarnRatio *Ratio
	DRG             *DRG
	BudgetClearing  *BudgetClearing
	// Contribution is nil when the policy has no contribution section.
	Contribution *Contribution

	catalogIndex map[string]int
}

// CatalogEntry is one item of the drug, service and material catalog.
type CatalogEntry struct {
	Code         string
	Category     ItemCategory
	SelfPayRatio Ratio
	// PriceCap is nil when the item has no price cap.
	PriceCap *Price
}

// Band is one band of a schedule: [previous UpTo, UpTo) paid at Ratio.
type Band struct {
	// UpTo is nil on the last band.
	UpTo  *Money
	Ratio Ratio
}

// Schedule is an ordered list of bands with an optional annual cap.
type Schedule struct {
	Bands []Band
	// AnnualCap is nil for no cap.
	AnnualCap *Money
}

// Benefit is the basic fund's benefit for one visit type.
type Benefit struct {
	VisitType    VisitType
	Accumulation Accumulation
	Deductibles  []DeductibleRow
	Rates        []RateRow
	CapPool      string
}

// DeductibleRow is the deductible of one institution level by visit sequence.
type DeductibleRow struct {
	Level   int
	Amounts []Money
}

// RateRow is the schedule of one institution level and employment status.
type RateRow struct {
	Level      int
	Employment Employment
	Schedule   Schedule
}

// CapPool is an annual cap shared by the benefits that name it.
type CapPool struct {
	Name string
	Rows []CapPoolRow
}

// CapPoolRow is the cap for persons with at least MinYears of contributions.
type CapPoolRow struct {
	MinYears int
	Amount   Money
}

// Catastrophic is the catastrophic insurance layer (大病保险).
type Catastrophic struct {
	VisitTypes        []VisitType
	IncludePreSelfPay bool
	SpecialCategories []Category
	Normal            Schedule
	// Special is nil when the policy has no special schedule.
	Special *Schedule
}

// AidRule is the medical aid rule of one person category (医疗救助).
type AidRule struct {
	Category          Category
	Schedule          Schedule
	IncludePreSelfPay bool
	// OOPCeiling is nil when there is no out-of-pocket ceiling.
	OOPCeiling *Money
}

// DRG is the DRG point method configuration used by clearing.
type DRG struct {
	Groups          []DRGGroup
	Coefficients    []DRGCoefficient
	HighThresholds  []DRGHighThreshold
	LowRatio        Ratio
	ReserveRatio    Ratio
	PointValueBasis PointValueBasis
}

// DRGGroup is one DRG group.
type DRGGroup struct {
	Code        string
	BasePoints  Points
	AverageCost Money
}

// DRGCoefficient is an institution's or a level's difference coefficient.
type DRGCoefficient struct {
	InstitutionID string
	Level         int
	Coefficient   Ratio
}

// DRGHighThreshold is a high-cost threshold row; UpToPoints is nil on the last.
type DRGHighThreshold struct {
	UpToPoints *Points
	Ratio      Ratio
}

// BudgetClearing configures institution budget clearing.
type BudgetClearing struct {
	VisitTypes         []VisitType
	SurplusRetention   Ratio
	MinUtilization     Ratio
	OverspendShare     Ratio
	OverspendTolerance Ratio
}

// defaultWarnRatio is the budget warning ratio when a policy sets none.
var defaultWarnRatio = MustRatio("0.9")

// WarnRatio is the share of a budget at which its state turns WARNING.
func (p *Policy) WarnRatio() Ratio {
	if p.BudgetWarnRatio == nil {
		return defaultWarnRatio
	}
	return *p.BudgetWarnRatio
}

// Item looks a code up in the catalog.
func (p *Policy) Item(code string) (CatalogEntry, bool) {
	if e := p.item(code); e != nil {
		return *e, true
	}
	return CatalogEntry{}, false
}

// item is the catalog entry of a code in place, or nil: Settle reads
// every line's entry without copying it.
func (p *Policy) item(code string) *CatalogEntry {
	if p.catalogIndex == nil {
		for i := range p.Catalog {
			if p.Catalog[i].Code == code {
				return &p.Catalog[i]
			}
		}
		return nil
	}
	i, ok := p.catalogIndex[code]
	if !ok {
		return nil
	}
	return &p.Catalog[i]
}

// Index builds the catalog lookup table; call it once after building or
// loading a policy and before sharing it between goroutines. A policy that
// was never indexed still works, with linear lookups.
func (p *Policy) Index() *Policy {
	p.catalogIndex = make(map[string]int, len(p.Catalog))
	for i, e := range p.Catalog {
		p.catalogIndex[e.Code] = i
	}
	return p
}

// Benefit returns the basic-fund benefit of a visit type, or nil.
func (p *Policy) Benefit(v VisitType) *Benefit {
	for i := range p.Benefits {
		if p.Benefits[i].VisitType == v {
			return &p.Benefits[i]
		}
	}
	return nil
}

// HasDRG reports whether code is a DRG group of the policy.
func (p *Policy) HasDRG(code string) bool {
	if p.DRG == nil {
		return false
	}
	for _, g := range p.DRG.Groups {
		if g.Code == code {
			return true
		}
	}
	return false
}

// Covers reports whether the policy version is in force on d.
func (p *Policy) Covers(d Date) bool {
	return p.EffectiveFrom.Compare(d) <= 0 && d.Compare(p.EffectiveTo) <= 0
}
