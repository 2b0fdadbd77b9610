package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// ErrVisitNotOpen means a visit is settled or cancelled, so its details
// cannot change and it cannot be cancelled (GATEWAY.md "Visits").
var ErrVisitNotOpen = errors.New("visit is not open")

// VisitKind is how a visit was opened: an outpatient visit (national 2201)
// or an admission (2401).
type VisitKind int

// Visit kinds.
const (
	VisitKindUnspecified VisitKind = iota
	VisitKindOutpatient
	VisitKindInpatient
)

// VisitState is where a visit is in its life: OPEN → SETTLED → (reversal)
// → OPEN again; OPEN → CANCELLED for good.
type VisitState int

// Visit states.
const (
	VisitStateUnspecified VisitState = iota
	VisitOpen
	VisitSettled
	VisitCancelled
)

// Visit is a national-interface visit (就诊, mdtrt_id) of one person at
// one institution: the container of the fee details that settle together.
type Visit struct {
	// ID is the mdtrt_id the gateway issued (at most 30 characters).
	ID            string
	InstitutionID string
	PersonID      string
	Kind          VisitKind
	// Number is the institution's own visit number (ipt_otp_no or ipt_no):
	// OpenVisit is idempotent on (InstitutionID, Kind, Number).
	Number string
	// Scheme is the insutype the visit was opened under.
	Scheme engine.Scheme
	// MedType is the national med_type code the visit was opened with.
	MedType string
	// Begin is the begntime as the HIS sent it.
	Begin string
	State VisitState
	// SettlementID is the live settlement while State is VisitSettled.
	SettlementID string
	// Generation counts the settlements reversed so far: the gateway keys
	// the visit's next settlement by (ID, Generation), so a retry settles
	// once and a settlement after a reversal is a new one.
	Generation int
	// ReversedSettlementID is the settlement whose reversal last reopened
	// the visit ("" if none).
	ReversedSettlementID string
	// Discharge is the 2402 discharge record as received ("" until then).
	Discharge string
	OpenedAt  time.Time
}

// FeeDetail is one uploaded fee-detail line of a visit (费用明细).
type FeeDetail struct {
	VisitID string
	// SN is the feedetl_sn, unique within the visit.
	SN string
	// Batch is the outpatient charge batch (chrg_bchno); "" for inpatient.
	Batch     string
	Code      string
	Name      string
	Quantity  engine.Quantity
	UnitPrice engine.Price
	Amount    engine.Money
	// FeeTime is fee_ocur_time as the HIS sent it.
	FeeTime string
	MedType string
}

// SameContent reports whether d and o carry the same line (all fields but
// VisitID): re-uploading a stored line with the same content is a no-op.
func (d FeeDetail) SameContent(o FeeDetail) bool {
	d.VisitID, o.VisitID = "", ""
	return d == o
}

// VisitStore keeps the gateway's visits and their fee details. Both stores
// implement it and pass its conformance tests.
type VisitStore interface {
	// OpenVisit stores v as a new OPEN visit (v.State and Generation are
	// ignored) and returns it with OpenedAt set; if the institution already
	// has a visit of v.Kind with v.Number, it returns that one unchanged (a
	// retry) whatever v's other fields. Returns ErrNotFound if the person
	// does not exist.
	OpenVisit(ctx context.Context, v Visit) (Visit, error)
	// GetVisit reads a visit. Returns ErrNotFound if there is none.
	GetVisit(ctx context.Context, id string) (Visit, error)
	// CancelVisit moves an OPEN visit to CANCELLED and returns it.
	// Returns ErrNotFound if there is none, ErrVisitNotOpen if it is not
	// OPEN (nothing changes).
	CancelVisit(ctx context.Context, id string) (Visit, error)
	// RecordDischarge stores the discharge record of a visit (the last one
	// wins). Returns ErrNotFound if there is none, ErrVisitNotOpen if it is
	// cancelled.
	RecordDischarge(ctx context.Context, id, record string) error
	// PutFeeDetails adds lines to an OPEN visit, all or nothing: a line
	// whose SN is already live with the same content is a no-op; with
	// other content the call fails with a *DetailConflictError naming every
	// such SN. Returns ErrNotFound if the visit does not exist,
	// ErrVisitNotOpen if it is not OPEN; on any error nothing changes.
	PutFeeDetails(ctx context.Context, visitID string, lines []FeeDetail) error
	// CancelFeeDetails cancels the live lines of an OPEN visit in batch
	// ("" = any batch) with SN sn ("" = all of them) and returns how many it
	// cancelled; a cancelled SN may be uploaded again. Returns ErrNotFound
	// if the visit does not exist, ErrVisitNotOpen if it is not OPEN.
	CancelFeeDetails(ctx context.Context, visitID, batch, sn string) (int, error)
	// FeeDetails lists the live lines of a visit in batch ("" = all), in
	// upload order. Returns ErrNotFound if the visit does not exist.
	FeeDetails(ctx context.Context, visitID, batch string) ([]FeeDetail, error)
	// MarkVisitSettled moves an OPEN visit to SETTLED by settlementID and
	// returns it; a visit already SETTLED by settlementID is returned
	// unchanged (a retry). Returns ErrNotFound if there is none,
	// ErrVisitNotOpen if it is cancelled or settled by another settlement.
	MarkVisitSettled(ctx context.Context, id, settlementID string) (Visit, error)
	// ReopenVisit moves a visit SETTLED by settlementID back to OPEN with
	// Generation + 1 and ReversedSettlementID = settlementID (after that
	// settlement's reversal) and returns it; a visit already reopened for
	// settlementID (OPEN with that ReversedSettlementID) is returned
	// unchanged (a retry). Returns ErrNotFound if there is none,
	// ErrVisitNotOpen if it is settled by another settlement or cancelled.
	ReopenVisit(ctx context.Context, id, settlementID string) (Visit, error)
}

// DetailConflictError lists the SNs uploaded again with other content.
type DetailConflictError struct {
	SNs []string
}

// Error implements error.
func (e *DetailConflictError) Error() string {
	return "fee details uploaded before with other content: " + strings.Join(e.SNs, ", ")
}

// Unwrap makes errors.Is(err, ErrConflict) hold.
func (e *DetailConflictError) Unwrap() error { return ErrConflict }
