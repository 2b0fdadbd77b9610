package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// ErrVisitNotOpen means a visit is not in the state the call needs: it is
// settled or cancelled, so its details cannot change and it cannot be
// cancelled (GATEWAY.md "Visits"); or, for MarkVisitSettled and
// ReopenVisit, it is held by another settlement than the one named.
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
	// DetailsVersion counts the changes made to the visit's live fee
	// details (each PutFeeDetails or CancelFeeDetails that changed
	// something adds one): SettleVisit settles only the details its caller
	// read.
	DetailsVersion int64
	// SettledAt, SettleMsgid and SettleCertType say when the live
	// settlement committed and the msgid and mdtrt_cert_type of the
	// national call that settled it (VisitMark); zero unless the visit is
	// SETTLED by SettleVisit.
	SettledAt      time.Time
	SettleMsgid    string
	SettleCertType string
}

// VisitMark names the visit a settlement settles and what its caller read
// of it (SettleVisit).
type VisitMark struct {
	VisitID string
	// Generation and DetailsVersion are the visit's as the caller read
	// them: a visit reopened, or whose details changed, since then is not
	// settled.
	Generation     int
	DetailsVersion int64
	// Msgid and CertType are the national call's msgid and
	// mdtrt_cert_type, kept as the visit's SettleMsgid and SettleCertType
	// (at most engine.MaxIDLen and 10 characters).
	Msgid    string
	CertType string
	// At is the time the settlement is recorded as settled on the visit
	// (its SettledAt), on the caller's clock: truncated to the
	// microsecond and kept in UTC. Zero means now on the store's clock.
	At time.Time
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
	// OpenVisit stores v as a new OPEN visit (as NewVisit makes it: an id
	// from NewVisitID when v.ID is "", and v's State, Generation,
	// SettlementID, ReversedSettlementID, Discharge and OpenedAt are
	// ignored) and returns it with OpenedAt set (UTC, to the microsecond);
	// if the institution already has a visit of v.Kind with v.Number, it
	// returns that one unchanged (a retry) whatever v's other fields and
	// whatever its state: the caller compares PersonID and State and
	// refuses a number reused for another person or a cancelled visit.
	// Returns a *engine.ValidationError if CheckVisit refuses v,
	// ErrNotFound if the person does not exist, ErrConflict if v.ID is
	// another visit's.
	OpenVisit(ctx context.Context, v Visit) (Visit, error)
	// GetVisit reads a visit. Returns ErrNotFound if there is none (an id
	// that is not Storable names none, in every call).
	GetVisit(ctx context.Context, id string) (Visit, error)
	// CancelVisit moves an OPEN visit to CANCELLED and returns it.
	// Returns ErrNotFound if there is none, ErrVisitNotOpen if it is not
	// OPEN (nothing changes).
	CancelVisit(ctx context.Context, id string) (Visit, error)
	// RecordDischarge stores the discharge record of a visit (the last one
	// wins), open or settled. Returns a *engine.ValidationError if
	// CheckDischarge refuses it, ErrNotFound if there is no visit,
	// ErrVisitNotOpen if it is cancelled.
	RecordDischarge(ctx context.Context, id, record string) error
	// PutFeeDetails adds lines to an OPEN visit, all or nothing: a line
	// whose SN is already live (or earlier in lines) with the same content
	// is a no-op; with other content the call fails with a
	// *DetailConflictError naming every such SN (NewFeeDetails decides).
	// Each line's VisitID is ignored (it is the visit's). Returns a
	// *engine.ValidationError if CheckFeeDetails refuses the lines (more
	// than MaxVisitDetails, a line without SN, a negative figure, …) or if
	// the visit would hold more than MaxVisitDetails live lines or would
	// have been given more than MaxVisitDetailRows (CheckDetailRoom; field
	// "lines"), ErrNotFound if the visit does not exist, ErrVisitNotOpen if
	// it is not OPEN; on any error nothing changes.
	PutFeeDetails(ctx context.Context, visitID string, lines []FeeDetail) error
	// CancelFeeDetails cancels the live lines of an OPEN visit in batch
	// ("" = any batch) with SN sn ("" = all of them) and returns how many it
	// cancelled (0, without error, when none matches: the caller decides
	// whether that is a refusal); a cancelled SN may be uploaded again,
	// with any content. Returns ErrNotFound if the visit does not exist,
	// ErrVisitNotOpen if it is not OPEN (nothing changes).
	CancelFeeDetails(ctx context.Context, visitID, batch, sn string) (int, error)
	// FeeDetails lists the live lines of a visit in batch ("" = all), in
	// upload order. Returns ErrNotFound if the visit does not exist.
	FeeDetails(ctx context.Context, visitID, batch string) ([]FeeDetail, error)
	// VisitDetails is GetVisit and FeeDetails(ctx, id, batch) in one
	// call: the visit is read no later than the details, so a change to
	// the details after the visit was read shows as a newer DetailsVersion
	// at SettleVisit (a mark made from the visit read is refused). Returns
	// ErrNotFound if the visit does not exist.
	VisitDetails(ctx context.Context, id, batch string) (Visit, []FeeDetail, error)
	// MarkVisitSettled moves an OPEN visit to SETTLED by settlementID and
	// returns it; a visit already SETTLED by settlementID is returned
	// unchanged (a retry). Returns ErrNotFound if there is none,
	// ErrVisitNotOpen if it is cancelled or settled by another settlement,
	// ErrConflict if settlementID is its ReversedSettlementID (a reversed
	// settlement cannot settle it again), a *engine.ValidationError if
	// settlementID is not an id engine.CheckID accepts (Visit.SettledBy
	// decides).
	MarkVisitSettled(ctx context.Context, id, settlementID string) (Visit, error)
	// SettleVisit is Settle(ctx, claim, compute) that, in the same
	// transaction, moves visit mark.VisitID from OPEN to SETTLED by the
	// new settlement, with SettledAt mark.At (or, when it is zero, the
	// time it commits on the store's clock), UTC to the microsecond, and
	// SettleMsgid and SettleCertType from mark: both
	// commit or neither does. A request already recorded is answered as
	// Settle answers it (a replay) and the visit is not touched. Returns
	// what Settle returns; and, with nothing changed, ErrNotFound if the
	// visit does not exist, ErrVisitNotOpen if it is not OPEN or its
	// Generation or DetailsVersion is no longer mark's (checked before
	// compute runs, and again as the settlement commits), a
	// *engine.ValidationError if CheckVisitMark refuses mark (checked
	// first, before a replay is looked for). A failed mark never fails
	// another claim committed with it.
	SettleVisit(ctx context.Context, claim engine.Claim, compute ComputeFunc, mark VisitMark) (engine.Settlement, error)
	// ReopenVisit moves a visit SETTLED by settlementID back to OPEN with
	// Generation + 1 and ReversedSettlementID = settlementID (after that
	// settlement's reversal) and returns it; a visit already reopened for
	// settlementID (OPEN with that ReversedSettlementID) is returned
	// unchanged (a retry). Returns ErrNotFound if there is none,
	// ErrVisitNotOpen if settlementID does not hold it (settled by another
	// settlement, cancelled, or OPEN and not reopened for settlementID), a
	// *engine.ValidationError if settlementID is not an id engine.CheckID
	// accepts (Visit.ReopenedFrom decides).
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
