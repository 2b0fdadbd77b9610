package engine

import (
	"errors"
	"fmt"
)

// ClearingKind is the payment method a clearing run applies (CLEARING.md).
type ClearingKind int

// Clearing kinds.
const (
	ClearingUnspecified ClearingKind = iota
	ClearingDRG                      // 病组点数法 under a regional budget
	ClearingBudget                   // 总额预算: institution budgets
	ClearingCapitation               // 按人头包干
)

// String names the kind as the API does.
func (k ClearingKind) String() string {
	switch k {
	case ClearingDRG:
		return "CLEARING_KIND_DRG"
	case ClearingBudget:
		return "CLEARING_KIND_BUDGET"
	case ClearingCapitation:
		return "CLEARING_KIND_CAPITATION"
	}
	return "CLEARING_KIND_UNSPECIFIED"
}

// ClearingCase is one settled, not reversed, settlement as a clearing run
// reads it from a store's snapshot.
type ClearingCase struct {
	SettlementID  string
	RequestID     string
	InstitutionID string
	// Level is the institution's level in the registry when the run reads
	// it (DRG coefficients by level).
	Level      int
	VisitType  VisitType
	SettleDate Date
	DRGCode    string
	Total      Money // medfee_sumamt
	// PersonalTotal is psn_part_amt, BasicFund hifp_pay.
	PersonalTotal Money
	BasicFund     Money
}

// CaseLine is one case behind a DRG institution line, stored with the run
// and listed by its statement.
type CaseLine struct {
	SettlementID  string
	RequestID     string
	InstitutionID string
	SettleDate    Date
	DRGCode       string
	Total         Money
	Ratio         Ratio // r = round(c / a, 4)
	Kind          CostKind
	Points        Points
	PersonalTotal Money
	BasicFund     Money
}

// ClearingLine is one institution's line of a run. DRG runs fill Cases to
// Difference; BUDGET runs Budget to Paid (Cases counts the settlements in
// C). What does not apply to the run's kind is zero.
type ClearingLine struct {
	InstitutionID string
	Cases         int64
	// DRG: points, P_h as used, item-by-item basic fund, payment and
	// difference = payment − basic fund.
	Points        Points
	PersonalTotal Money
	BasicFund     Money
	Payment       Money
	Difference    Money
	// BUDGET: G, C, surplus kept, overspend shared, paid.
	Budget   Money
	Claimed  Money
	Retained Money
	Shared   Money
	Paid     Money
}

// ComponentClearing is one capitation component's budget K_c and actual A_c.
type ComponentClearing struct {
	Name   string
	Budget Money
	Actual Money
}

// PartyAmount is one party's amount of a capitation surplus.
type PartyAmount struct {
	Party  string
	Amount Money
}

// CapitationClearing is the clearing of one capitation contract.
type CapitationClearing struct {
	ContractID string
	Members    int64
	Budget     Money // K = members × Σ component rates
	Actual     Money // A
	// Surplus = K − A when A ≤ K, split into Shares (to the fen, adding
	// up exactly); Shares is empty on a deficit.
	Surplus Money
	Shares  []PartyAmount
	// Deficit = A − K when A > K: FundCovers = round(overspend_share ×
	// min(D, overspend_tolerance × K)), ContractBears the rest.
	Deficit       Money
	FundCovers    Money
	ContractBears Money
	Components    []ComponentClearing
}

// ClearingRun is a clearing run: its key, its summary and its institution
// lines (by institution id). DRG case lines are stored beside it and read
// per institution.
type ClearingRun struct {
	RunID      string
	Kind       ClearingKind
	Region     string
	Scheme     Scheme
	Year       int
	From, To   Date
	ContractID string // CAPITATION
	Final      bool

	// Settlements is how many settlements the run counted (DRG: grouped
	// and ungrouped).
	Settlements        int64
	Ungrouped          int64
	UngroupedBasicFund Money
	// Budget is B (DRG), Σ G (BUDGET) or K (CAPITATION).
	Budget        Money
	PersonalTotal Money      // DRG: P
	TotalPoints   Points     // DRG: T
	PointValue    PointValue // DRG: V, rounded
	// PaidTotal is Σ payments = B (DRG), Σ paid (BUDGET), K + fund_covers
	// (CAPITATION).
	PaidTotal    Money
	Institutions []ClearingLine
	Capitation   *CapitationClearing
}

// RunInputs is what a run reads besides settlements, from the same
// snapshot as them.
type RunInputs struct {
	// Institutions are the run region's institutions with their levels and
	// budgets (DRG, BUDGET), by institution id.
	Institutions []Institution
	// Members is the number of members of the contract (CAPITATION).
	Members int64
}

// Clearer computes one clearing run from a stream of cases, so that a
// region-year never has to be held in memory. A store calls Begin once,
// then Add for every settlement the run selects (in any order), then
// Finish; it stores the case lines Add returns with the run.
type Clearer interface {
	// Begin receives the run's other inputs.
	Begin(in RunInputs) error
	// Add counts one case. It returns the case line to store with the run
	// (DRG: a grouped case), or nil. Returns ErrInvariant for a case the
	// run should never have been given.
	Add(c ClearingCase) (*CaseLine, error)
	// Finish computes the summary and the institution lines. The run's
	// identity fields (RunID, Final) are the store's to fill.
	Finish() (ClearingRun, error)
}

// RunKey identifies the runs a draft replaces and the finals a final run
// must not overlap (CLEARING.md): DRG (kind, region, scheme, period);
// BUDGET (kind, region, period); CAPITATION (kind, contract).
func (r ClearingRun) RunKey() string {
	switch r.Kind {
	case ClearingDRG:
		return fmt.Sprintf("%d|%s|%d|%s|%s", r.Kind, r.Region, r.Scheme, r.From, r.To)
	case ClearingBudget:
		return fmt.Sprintf("%d|%s|%s|%s", r.Kind, r.Region, r.From, r.To)
	}
	return fmt.Sprintf("%d|%s", r.Kind, r.ContractID)
}

// FinalScope is what two final runs must share, besides overlapping
// periods, to conflict: the key without the period.
func (r ClearingRun) FinalScope() string {
	switch r.Kind {
	case ClearingDRG:
		return fmt.Sprintf("%d|%s|%d", r.Kind, r.Region, r.Scheme)
	case ClearingBudget:
		return fmt.Sprintf("%d|%s", r.Kind, r.Region)
	}
	return fmt.Sprintf("%d|%s", r.Kind, r.ContractID)
}

// ConflictsWithFinal reports whether a final run r may not be stored
// because of the final run o: same kind and scope, overlapping periods.
func (r ClearingRun) ConflictsWithFinal(o ClearingRun) bool {
	return o.Final && r.FinalScope() == o.FinalScope() &&
		r.From.Compare(o.To) <= 0 && o.From.Compare(r.To) <= 0
}

// ErrFinalExists means a final run of the same key and an overlapping
// period exists: final runs are locked forever.
var ErrFinalExists = errors.New("a final clearing run already covers this key and period")

// ErrNoClearingRules means the policy in force has no section for the
// run's kind (drg, budget_clearing).
var ErrNoClearingRules = errors.New("the policy has no rules for this kind of clearing")
