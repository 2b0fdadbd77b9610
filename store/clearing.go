package store

import (
	"context"

	"github.com/medsettle/medsettle/engine"
)

// Selection says which settlements a clearing run reads (API.md,
// "Clearing"). Every run reads settlements that are settled and not
// reversed when its snapshot is taken, with settle_date in [From, To].
//   - DRG: inpatient settlements whose policy was (Region, Scheme), at
//     institutions whose registry region is Region.
//   - BUDGET: settlements of VisitTypes, under any scheme, at institutions
//     of Region that have a budget for Year.
//   - CAPITATION: settlements of VisitTypes of the members of ContractID,
//     at any institution.
type Selection struct {
	Kind       engine.ClearingKind
	Region     string
	Scheme     engine.Scheme
	Year       int
	From, To   engine.Date
	VisitTypes []engine.VisitType
	ContractID string
	Final      bool
}

// Progress reports how many of a run's settlements were read so far.
type Progress func(processed, total int64)

// ReconcileQuery is an institution's own totals for a period (对总账),
// narrowed to a scheme (unspecified: all) and visit types (none: all).
type ReconcileQuery struct {
	InstitutionID string
	From, To      engine.Date
	Scheme        engine.Scheme
	VisitTypes    []engine.VisitType
	Claimed       ReconcileTotals
	// ListLimit bounds the settlements listed when the totals differ.
	ListLimit int
}

// ReconcileTotals are the four figures reconciliation compares.
type ReconcileTotals struct {
	Count     int64
	Total     engine.Money
	FundTotal engine.Money
	Account   engine.Money
}

// Equal reports whether all four figures agree.
func (t ReconcileTotals) Equal(o ReconcileTotals) bool {
	return t.Count == o.Count && t.Total.Equal(o.Total) && t.FundTotal.Equal(o.FundTotal) && t.Account.Equal(o.Account)
}

// ReconcileSettlement is one settlement the server counts, listed when the
// totals differ.
type ReconcileSettlement struct {
	SettlementID string
	RequestID    string
	SettleDate   engine.Date
	Total        engine.Money
	FundTotal    engine.Money
	Account      engine.Money
}

// ReconcileResult is the server's side of a reconciliation.
type ReconcileResult struct {
	Totals ReconcileTotals
	// Settlements lists the counted settlements by settle date and id,
	// only when Totals differ from the query's Claimed, at most ListLimit.
	Settlements []ReconcileSettlement
	// Truncated is true when more settlements were counted than listed.
	Truncated bool
}

// EnrollRejection is one person an enrolment refused, with why.
type EnrollRejection struct {
	PersonID string
	Reason   string
}

// ClearingStore persists clearing runs, capitation contracts and their
// members, and answers reconciliations.
type ClearingStore interface {
	// RunClearing reads one consistent snapshot of what sel selects,
	// feeds it to c (Begin, then Add for each settlement, reporting
	// progress), and stores the run c.Finish computes with the case lines
	// Add returned, atomically: a draft replaces the previous draft of the
	// same key; a final run is locked. Returns the stored run (without
	// case lines). Returns ErrNotFound if sel names an unknown contract,
	// engine.ErrFinalExists if sel.Final and a final run of the same scope
	// overlaps the period, or c's error; on any error (a cancelled context
	// included) nothing is stored and an earlier draft stays as it was.
	RunClearing(ctx context.Context, sel Selection, c engine.Clearer, progress Progress) (engine.ClearingRun, error)
	// GetClearingRun reads a stored run with its institution lines.
	// Returns ErrNotFound if there is none (or it was replaced).
	GetClearingRun(ctx context.Context, runID string) (engine.ClearingRun, error)
	// StatementCases lists the case lines of one institution in a run, by
	// settlement id, those after settlement id after (""; from the start),
	// at most limit. Returns ErrNotFound if the run does not exist.
	StatementCases(ctx context.Context, runID, institutionID, after string, limit int) ([]engine.CaseLine, error)

	// PutContract creates or replaces a capitation contract's terms; its
	// members stay. Returns ErrNotFound if the lead institution does not
	// exist, engine.ErrContractInUse if members are enrolled and the
	// region, scheme or year would change.
	PutContract(ctx context.Context, c engine.CapitationContract) error
	// GetContract reads a contract with its member count. Returns
	// ErrNotFound if there is none.
	GetContract(ctx context.Context, id string) (engine.CapitationContract, error)
	// EnrollMembers enrols persons in a contract in one atomic step and
	// returns how many are enrolled (those already members of this
	// contract count, and change nothing) and the refused ones with their
	// reasons: an unknown person, one of another region or scheme, one
	// enrolled in another contract for the year. Returns ErrNotFound if
	// the contract does not exist; then nothing is enrolled.
	EnrollMembers(ctx context.Context, contractID string, personIDs []string) (enrolled int64, rejected []EnrollRejection, err error)

	// Reconcile computes, from one snapshot, the institution's totals for
	// the query and, when they differ from q.Claimed, lists the
	// settlements counted.
	Reconcile(ctx context.Context, q ReconcileQuery) (ReconcileResult, error)
}
