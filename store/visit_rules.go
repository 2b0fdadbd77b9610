package store

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medsettle/medsettle/engine"
)

// The rules both stores apply to visits, in one place so that they cannot
// drift apart: what a visit and a fee-detail line may hold, how many lines
// a visit may have, and how each call moves a visit.

// Limits on a visit's fee details.
const (
	// MaxVisitDetails is the most live lines a visit may have, and the most
	// lines one PutFeeDetails call may carry: a visit settles as one claim
	// of at most engine.MaxItems line items.
	MaxVisitDetails = engine.MaxItems
	// MaxVisitDetailRows is the most lines a visit may ever be given,
	// cancelled ones included (a cancelled line is kept as a record of
	// what was billed and withdrawn): ten full uploads.
	MaxVisitDetailRows = 10 * engine.MaxItems
	// MaxDischargeLen is the longest discharge record, in bytes.
	MaxDischargeLen = 64 << 10
)

// NewVisit is v as OpenVisit stores a new visit: an id made by
// NewVisitID when v has none, OPEN, generation 0, no settlement, no
// reversed settlement, no discharge and OpenedAt unset (the store sets
// it). It returns CheckVisit's refusal if the result cannot be stored.
func NewVisit(v Visit) (Visit, error) {
	if v.ID == "" {
		v.ID = NewVisitID()
	}
	v.State, v.Generation = VisitOpen, 0
	v.SettlementID, v.ReversedSettlementID, v.Discharge = "", "", ""
	v.OpenedAt = time.Time{}
	if err := CheckVisit(v); err != nil {
		return Visit{}, err
	}
	return v, nil
}

// CheckVisit refuses, with a *engine.ValidationError, a visit OpenVisit
// cannot store: an id, institution, person or number that is empty, not
// UTF-8, carries a control character or is too long (engine.CheckID; the
// id at most MaxVisitIDLen characters), a kind that is neither outpatient
// nor inpatient, a scheme that is neither employee nor resident, a
// med_type or begin time that is not UTF-8, carries a NUL or is longer
// than engine.MaxIDLen (engine.CheckText). Fields are named as Visit's,
// in snake_case.
func CheckVisit(v Visit) error {
	var bad engine.Violations
	if n := utf8.RuneCountInString(v.ID); n > MaxVisitIDLen {
		bad.Addf("id", "is %d characters long; at most %d are allowed", n, MaxVisitIDLen)
	} else {
		engine.CheckID(&bad, "id", v.ID)
	}
	engine.CheckID(&bad, "institution_id", v.InstitutionID)
	engine.CheckID(&bad, "person_id", v.PersonID)
	engine.CheckID(&bad, "number", v.Number)
	engine.CheckText(&bad, "med_type", v.MedType, engine.MaxIDLen)
	engine.CheckText(&bad, "begin", v.Begin, engine.MaxIDLen)
	if v.Kind != VisitKindOutpatient && v.Kind != VisitKindInpatient {
		bad.Addf("kind", "is %d; want outpatient (%d) or inpatient (%d)", v.Kind, VisitKindOutpatient, VisitKindInpatient)
	}
	if v.Scheme != engine.SchemeEmployee && v.Scheme != engine.SchemeResident {
		bad.Addf("scheme", "is %d; want employee or resident", v.Scheme)
	}
	return bad.Err()
}

// CheckFeeDetails refuses, with a *engine.ValidationError, lines
// PutFeeDetails cannot store: more than MaxVisitDetails of them (field
// "lines"), or a line (field "lines[i].…") whose sn fails engine.CheckID,
// whose batch, code, fee time or med_type (engine.MaxIDLen) or name
// (engine.MaxNameLen) fails engine.CheckText, or whose quantity, unit
// price or amount is negative. It does not check amount = round(quantity
// × unit price): that is the caller's validation of its own request.
func CheckFeeDetails(lines []FeeDetail) error {
	return checkFeeDetails(lines, lineClean)
}

// checkFeeDetails is CheckFeeDetails with the per-field checks skipped for
// the lines clean reports as having nothing to refuse (lineClean; the
// tests judge it against a clean that passes no line).
func checkFeeDetails(lines []FeeDetail, clean func(*FeeDetail) bool) error {
	var bad engine.Violations
	if len(lines) > MaxVisitDetails {
		bad.Addf("lines", "has %d lines; at most %d are allowed in one upload", len(lines), MaxVisitDetails)
		return bad.Err()
	}
	for i := range lines {
		if clean(&lines[i]) {
			continue
		}
		d := &lines[i]
		at := func(field string) engine.FieldPath { return engine.IndexPath("lines", i, field) }
		engine.CheckIDAt(&bad, at("sn"), d.SN)
		engine.CheckTextAt(&bad, at("batch"), d.Batch, engine.MaxIDLen)
		engine.CheckTextAt(&bad, at("code"), d.Code, engine.MaxIDLen)
		engine.CheckTextAt(&bad, at("name"), d.Name, engine.MaxNameLen)
		engine.CheckTextAt(&bad, at("fee_time"), d.FeeTime, engine.MaxIDLen)
		engine.CheckTextAt(&bad, at("med_type"), d.MedType, engine.MaxIDLen)
		if d.Quantity.Scaled() < 0 {
			bad.AddAtf(at("quantity"), "is %s; a quantity cannot be negative", d.Quantity)
		}
		if d.UnitPrice.Scaled() < 0 {
			bad.AddAtf(at("unit_price"), "is %s; a price cannot be negative", d.UnitPrice)
		}
		if d.Amount.IsNegative() {
			bad.AddAtf(at("amount"), "is %s; an amount cannot be negative", d.Amount)
		}
	}
	return bad.Err()
}

// Storable reports whether a store can hold s as text: valid UTF-8 with
// no NUL. A key that is not (an id, batch or SN a caller asks for) names
// nothing stored; PostgreSQL would refuse to compare it at all.
func Storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// NewFeeDetails decides what PutFeeDetails adds to visitID, whose live
// lines with the SNs of lines are live (any others may be there too):
// the lines, with VisitID set, whose SN is not live, in the order given,
// each SN once. A line whose SN is live (or earlier in lines) with the
// same content is a no-op; with other content it is a conflict, and the
// answer is then a *DetailConflictError naming every such SN once, in
// the order of lines. The lines must have passed CheckFeeDetails. It is
// FreshFeeDetails with the lines copied.
func NewFeeDetails(visitID string, live map[string]FeeDetail, lines []FeeDetail) ([]FeeDetail, error) {
	idx, err := FreshFeeDetails(lines, func(sn string) (FeeDetail, bool) {
		d, ok := live[sn]
		return d, ok
	}, nil)
	if err != nil {
		return nil, err
	}
	var fresh []FeeDetail // nil when there is none
	if len(idx) > 0 {
		fresh = make([]FeeDetail, len(idx))
		for k, i := range idx {
			fresh[k] = lines[i]
			fresh[k].VisitID = visitID
		}
	}
	return fresh, nil
}

// CheckDetailRoom refuses, with a *engine.ValidationError naming the
// field "lines", adding n lines to a visit that has live live lines and
// was given rows lines in all (cancelled ones included): a visit holds at
// most MaxVisitDetails live lines and is given at most
// MaxVisitDetailRows.
func CheckDetailRoom(visitID string, live, rows, n int) error {
	var bad engine.Violations
	switch {
	case live+n > MaxVisitDetails:
		bad.Addf("lines", "visit %s has %d live fee-detail lines; %d more would be above the limit of %d (cancel lines or settle first)",
			visitID, live, n, MaxVisitDetails)
	case rows+n > MaxVisitDetailRows:
		bad.Addf("lines", "visit %s was given %d fee-detail lines (cancelled ones included); %d more would be above the limit of %d (open a new visit)",
			visitID, rows, n, MaxVisitDetailRows)
	}
	return bad.Err()
}

// CheckOpen returns ErrVisitNotOpen, naming the visit and its state,
// unless v is OPEN.
func (v Visit) CheckOpen() error {
	if v.State != VisitOpen {
		return fmt.Errorf("visit %s is %s: %w", v.ID, v.State, ErrVisitNotOpen)
	}
	return nil
}

// Cancelled is v cancelled (CancelVisit's transition), or ErrVisitNotOpen
// unless v is OPEN.
func (v Visit) Cancelled() (Visit, error) {
	if err := v.CheckOpen(); err != nil {
		return Visit{}, err
	}
	v.State = VisitCancelled
	return v, nil
}

// SettledBy is v settled by settlementID (MarkVisitSettled's
// transition) and whether that changes v: not if v is SETTLED by
// settlementID already (a retry). Refuses a settlementID engine.CheckID
// refuses (a *engine.ValidationError), a settlementID that already reopened v
// (ErrConflict: a reversed settlement cannot settle the visit again), and
// a v that is cancelled or settled by another settlement
// (ErrVisitNotOpen).
func (v Visit) SettledBy(settlementID string) (Visit, bool, error) {
	if err := checkSettlementID(settlementID); err != nil {
		return Visit{}, false, err
	}
	switch {
	case v.State == VisitSettled && v.SettlementID == settlementID:
		return v, false, nil
	case v.State == VisitOpen && v.ReversedSettlementID == settlementID:
		return Visit{}, false, fmt.Errorf("visit %s: settlement %s was reversed and reopened it: %w", v.ID, settlementID, ErrConflict)
	case v.State == VisitSettled:
		return Visit{}, false, fmt.Errorf("visit %s is settled by %s, not %s: %w", v.ID, v.SettlementID, settlementID, ErrVisitNotOpen)
	}
	if err := v.CheckOpen(); err != nil {
		return Visit{}, false, err
	}
	v.State, v.SettlementID = VisitSettled, settlementID
	return v, true, nil
}

// ReopenedFrom is v reopened after the reversal of settlementID
// (ReopenVisit's transition: what SettleVisit kept of the settling call
// cleared) and whether that changes v: not if v is OPEN
// and was reopened for settlementID already (a retry). Refuses a
// settlementID engine.CheckID refuses (a *engine.ValidationError) and,
// with ErrVisitNotOpen, a v
// that settlementID does not hold: cancelled, settled by another
// settlement, or OPEN and not reopened for it.
func (v Visit) ReopenedFrom(settlementID string) (Visit, bool, error) {
	if err := checkSettlementID(settlementID); err != nil {
		return Visit{}, false, err
	}
	switch {
	case v.State == VisitOpen && v.ReversedSettlementID == settlementID:
		return v, false, nil
	case v.State != VisitSettled || v.SettlementID != settlementID:
		held := "no settlement"
		if v.State == VisitSettled {
			held = "settlement " + v.SettlementID
		}
		return Visit{}, false, fmt.Errorf("visit %s is %s and holds %s, not %s: %w", v.ID, v.State, held, settlementID, ErrVisitNotOpen)
	}
	v.State, v.SettlementID = VisitOpen, ""
	v.Generation++
	v.ReversedSettlementID = settlementID
	// Nothing of the settling call is kept on a visit that is not SETTLED.
	v.SettledAt, v.SettleMsgid, v.SettleCertType = time.Time{}, "", ""
	return v, true, nil
}

// Discharged is v with its discharge record (RecordDischarge's
// transition): refused with CheckDischarge's *engine.ValidationError, or
// with ErrVisitNotOpen if v is cancelled.
func (v Visit) Discharged(record string) (Visit, error) {
	if err := CheckDischarge(record); err != nil {
		return Visit{}, err
	}
	if v.State == VisitCancelled {
		return Visit{}, v.CheckOpen()
	}
	v.Discharge = record
	return v, nil
}

// checkSettlementID refuses, with a *engine.ValidationError, a
// settlement id that fails engine.CheckID.
func checkSettlementID(id string) error {
	var bad engine.Violations
	engine.CheckID(&bad, "settlement_id", id)
	return bad.Err()
}

// CheckDischarge refuses, with a *engine.ValidationError, a discharge
// record longer than MaxDischargeLen bytes, not valid UTF-8 or carrying a
// NUL.
func CheckDischarge(record string) error {
	var bad engine.Violations
	switch {
	case len(record) > MaxDischargeLen:
		bad.Addf("discharge", "has %d bytes; at most %d are allowed", len(record), MaxDischargeLen)
	case !Storable(record):
		bad.Addf("discharge", "is not valid UTF-8 or carries a NUL")
	}
	return bad.Err()
}

// String names a visit state as GATEWAY.md does.
func (s VisitState) String() string {
	switch s {
	case VisitOpen:
		return "OPEN"
	case VisitSettled:
		return "SETTLED"
	case VisitCancelled:
		return "CANCELLED"
	}
	return fmt.Sprintf("VisitState(%d)", int(s))
}
