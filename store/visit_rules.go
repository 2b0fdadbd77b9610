package store

import (
	"fmt"
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
// cannot store: an id, institution, person or number that is empty or too
// long (the id at most MaxVisitIDLen characters, the others
// engine.MaxIDLen), a kind that is neither outpatient nor inpatient, a
// scheme that is neither employee nor resident, a med_type or begin time
// longer than engine.MaxIDLen. Fields are named as Visit's, in snake_case.
func CheckVisit(v Visit) error {
	var bad engine.Violations
	text := func(field, s string, required bool, max int) {
		switch {
		case required && s == "":
			bad.Addf(field, "is required")
		case utf8.RuneCountInString(s) > max:
			bad.Addf(field, "has %d characters; at most %d are allowed", utf8.RuneCountInString(s), max)
		case !utf8.ValidString(s):
			bad.Addf(field, "is not valid UTF-8")
		}
	}
	text("id", v.ID, true, MaxVisitIDLen)
	text("institution_id", v.InstitutionID, true, engine.MaxIDLen)
	text("person_id", v.PersonID, true, engine.MaxIDLen)
	text("number", v.Number, true, engine.MaxIDLen)
	text("med_type", v.MedType, false, engine.MaxIDLen)
	text("begin", v.Begin, false, engine.MaxIDLen)
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
// "lines"), or a line (field "lines[i].…") whose sn is empty or longer
// than engine.MaxIDLen, whose batch, code, fee time or med_type is longer
// than engine.MaxIDLen, whose name is longer than engine.MaxNameLen, or
// whose quantity, unit price or amount is negative. It does not check
// amount = round(quantity × unit price): that is the caller's validation
// of its own request.
func CheckFeeDetails(lines []FeeDetail) error {
	var bad engine.Violations
	if len(lines) > MaxVisitDetails {
		bad.Addf("lines", "has %d lines; at most %d are allowed in one upload", len(lines), MaxVisitDetails)
		return bad.Err()
	}
	for i, d := range lines {
		text := func(name, s string, required bool, max int) {
			switch {
			case required && s == "":
				bad.Addf(fmt.Sprintf("lines[%d].%s", i, name), "is required")
			case utf8.RuneCountInString(s) > max:
				bad.Addf(fmt.Sprintf("lines[%d].%s", i, name), "has %d characters; at most %d are allowed", utf8.RuneCountInString(s), max)
			case !utf8.ValidString(s):
				bad.Addf(fmt.Sprintf("lines[%d].%s", i, name), "is not valid UTF-8")
			}
		}
		text("sn", d.SN, true, engine.MaxIDLen)
		text("batch", d.Batch, false, engine.MaxIDLen)
		text("code", d.Code, false, engine.MaxIDLen)
		text("name", d.Name, false, engine.MaxNameLen)
		text("fee_time", d.FeeTime, false, engine.MaxIDLen)
		text("med_type", d.MedType, false, engine.MaxIDLen)
		if d.Quantity.Scaled() < 0 {
			bad.Addf(fmt.Sprintf("lines[%d].quantity", i), "is %s; a quantity cannot be negative", d.Quantity)
		}
		if d.UnitPrice.Scaled() < 0 {
			bad.Addf(fmt.Sprintf("lines[%d].unit_price", i), "is %s; a price cannot be negative", d.UnitPrice)
		}
		if d.Amount.IsNegative() {
			bad.Addf(fmt.Sprintf("lines[%d].amount", i), "is %s; an amount cannot be negative", d.Amount)
		}
	}
	return bad.Err()
}

// NewFeeDetails decides what PutFeeDetails adds to visitID, whose live
// lines with the SNs of lines are live (any others may be there too):
// the lines, with VisitID set, whose SN is not live, in the order given,
// each SN once. A line whose SN is live (or earlier in lines) with the
// same content is a no-op; with other content it is a conflict, and the
// answer is then a *DetailConflictError naming every such SN once, in
// the order of lines. The lines must have passed CheckFeeDetails.
func NewFeeDetails(visitID string, live map[string]FeeDetail, lines []FeeDetail) ([]FeeDetail, error) {
	seen := make(map[string]FeeDetail, len(lines))
	conflict := map[string]bool{}
	var conflicts []string
	var fresh []FeeDetail
	for _, d := range lines {
		d.VisitID = visitID
		prev, ok := live[d.SN]
		if !ok {
			prev, ok = seen[d.SN]
		}
		switch {
		case !ok:
			seen[d.SN] = d
			fresh = append(fresh, d)
		case !prev.SameContent(d) && !conflict[d.SN]:
			conflict[d.SN] = true
			conflicts = append(conflicts, d.SN)
		}
	}
	if len(conflicts) > 0 {
		return nil, &DetailConflictError{SNs: conflicts}
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
// settlementID already (a retry). Refuses an empty settlementID (a
// *engine.ValidationError), a settlementID that already reopened v
// (ErrConflict: a reversed settlement cannot settle the visit again), and
// a v that is cancelled or settled by another settlement
// (ErrVisitNotOpen).
func (v Visit) SettledBy(settlementID string) (Visit, bool, error) {
	switch {
	case settlementID == "":
		var bad engine.Violations
		bad.Addf("settlement_id", "is required")
		return Visit{}, false, bad.Err()
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
// (ReopenVisit's transition) and whether that changes v: not if v is OPEN
// and was reopened for settlementID already (a retry). Refuses an empty
// settlementID (a *engine.ValidationError) and, with ErrVisitNotOpen, a v
// that settlementID does not hold: cancelled, settled by another
// settlement, or OPEN and not reopened for it.
func (v Visit) ReopenedFrom(settlementID string) (Visit, bool, error) {
	switch {
	case settlementID == "":
		var bad engine.Violations
		bad.Addf("settlement_id", "is required")
		return Visit{}, false, bad.Err()
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

// CheckDischarge refuses, with a *engine.ValidationError, a discharge
// record longer than MaxDischargeLen bytes or not valid UTF-8.
func CheckDischarge(record string) error {
	var bad engine.Violations
	switch {
	case len(record) > MaxDischargeLen:
		bad.Addf("discharge", "has %d bytes; at most %d are allowed", len(record), MaxDischargeLen)
	case !utf8.ValidString(record):
		bad.Addf("discharge", "is not valid UTF-8")
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
