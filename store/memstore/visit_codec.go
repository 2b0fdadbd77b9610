package memstore

import (
	"fmt"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// visitSlot is a visit as the visit book keeps it: fixed-size and holding
// no pointer, so that the garbage collector does not scan the book's
// slots (pagedSlice). Its numbers and times are kept here; its strings are
// in the book's byte chunks, in three groups (visitStrings) each written
// once and written anew, elsewhere, when one of its strings changes (bytes
// once written never change), and so are its fee-detail lines once frozen
// (visit_lines.go).
type visitSlot struct {
	// fixed is ID, InstitutionID, PersonID, Number, MedType and Begin,
	// written by OpenVisit: they never change.
	fixed recordRef
	// settle is SettlementID, ReversedSettlementID, SettleMsgid and
	// SettleCertType, or none (n 0) while all four are empty.
	settle recordRef
	// discharge is Discharge, or none (n 0) while it is empty.
	discharge recordRef
	// details is the live fee-detail lines (detailLines.enc) as last
	// frozen, or none (n 0) if empty; the book's openLines override it
	// (visit_lines.go).
	details recordRef

	openedAt, settledAt visitTime
	generation          int64
	detailsVersion      int64
	kind                int32 // store.VisitKind
	state               int32 // store.VisitState
	scheme              int32 // engine.Scheme
	// lines is how many live fee-detail lines the visit has, rows how
	// many it was ever given, cancelled ones included (they are only
	// counted: nothing reads them back).
	lines, rows uint32
}

// visitTime is a time.Time without a pointer: its Unix seconds and
// nanoseconds. It reads back in UTC without a monotonic reading, which
// is how the book's times are made (UTC, truncated to the microsecond);
// the zero time.Time reads back as itself.
type visitTime struct {
	sec  int64
	nsec int32
}

// newVisitTime is t as a visitTime.
func newVisitTime(t time.Time) visitTime {
	return visitTime{sec: t.Unix(), nsec: int32(t.Nanosecond())}
}

// time is t as a time.Time, in UTC.
func (t visitTime) time() time.Time { return time.Unix(t.sec, int64(t.nsec)).UTC() }

// errVisitCorrupt means a visit's encoded strings could not be read: a
// bug, never input.
var errVisitCorrupt = fmt.Errorf("%w: memstore: a visit's encoded strings are corrupt", engine.ErrInvariant)

// visitStrings is which of a visit's string groups differ between two
// versions of it (visitSlot: fixed, settle, discharge).
type visitStrings struct {
	fixed, settle, discharge bool
}

// changedStrings is which string groups of old differ in v.
func changedStrings(old, v *store.Visit) visitStrings {
	return visitStrings{
		fixed: old.ID != v.ID || old.InstitutionID != v.InstitutionID || old.PersonID != v.PersonID ||
			old.Number != v.Number || old.MedType != v.MedType || old.Begin != v.Begin,
		settle: old.SettlementID != v.SettlementID || old.ReversedSettlementID != v.ReversedSettlementID ||
			old.SettleMsgid != v.SettleMsgid || old.SettleCertType != v.SettleCertType,
		discharge: old.Discharge != v.Discharge,
	}
}

// appendVisitFixed appends v's fixed strings (visitSlot.fixed), each as
// record_codec.go's appendString.
func appendVisitFixed(b []byte, v *store.Visit) []byte {
	for _, s := range [...]string{v.ID, v.InstitutionID, v.PersonID, v.Number, v.MedType, v.Begin} {
		b = appendString(b, s)
	}
	return b
}

// appendVisitSettle appends v's settle strings (visitSlot.settle), or
// nothing if all are empty.
func appendVisitSettle(b []byte, v *store.Visit) []byte {
	if v.SettlementID == "" && v.ReversedSettlementID == "" && v.SettleMsgid == "" && v.SettleCertType == "" {
		return b
	}
	for _, s := range [...]string{v.SettlementID, v.ReversedSettlementID, v.SettleMsgid, v.SettleCertType} {
		b = appendString(b, s)
	}
	return b
}

// appendVisitDischarge appends v's discharge record (visitSlot.discharge),
// or nothing if it is empty.
func appendVisitDischarge(b []byte, v *store.Visit) []byte {
	if v.Discharge == "" {
		return b
	}
	return appendString(b, v.Discharge)
}

// setVisitNumbers sets the numbers and times of slot from v.
func setVisitNumbers(slot *visitSlot, v *store.Visit) {
	slot.openedAt, slot.settledAt = newVisitTime(v.OpenedAt), newVisitTime(v.SettledAt)
	slot.generation, slot.detailsVersion = int64(v.Generation), v.DetailsVersion
	slot.kind, slot.state, slot.scheme = int32(v.Kind), int32(v.State), int32(v.Scheme)
}

// visitFixed is a visit's fixed strings (visitSlot.fixed) decoded: ID,
// InstitutionID, PersonID, Number, MedType and Begin.
type visitFixed [6]string

// decodeVisitFixed is the fixed strings encoded in enc, sharing one
// allocation.
func decodeVisitFixed(enc []byte) (visitFixed, error) {
	r := recordReader{b: enc, s: string(enc)}
	var f visitFixed
	for i := range f {
		f[i] = r.str()
	}
	if r.bad || r.off != len(enc) {
		return visitFixed{}, errVisitCorrupt
	}
	return f, nil
}

// decodeVisit is the visit of slot whose fixed strings are fixed and
// whose other string groups are encoded in settle and discharge (their
// bytes in the book's chunks), the strings of these sharing one
// allocation.
func decodeVisit(slot *visitSlot, fixed *visitFixed, settle, discharge []byte) (store.Visit, error) {
	v := store.Visit{ID: fixed[0], InstitutionID: fixed[1], PersonID: fixed[2], Number: fixed[3], MedType: fixed[4], Begin: fixed[5]}
	if len(settle)+len(discharge) > 0 {
		var scratch [256]byte
		b := append(append(scratch[:0], settle...), discharge...)
		// The strings are substrings of s, read through r's spans: r
		// itself holds only b, which then stays on the stack when it
		// fits scratch.
		s := string(b)
		r := recordReader{b: b}
		str := func() string { i, j := r.span(); return s[i:j] }
		if len(settle) > 0 {
			v.SettlementID, v.ReversedSettlementID, v.SettleMsgid, v.SettleCertType = str(), str(), str(), str()
		}
		ok := r.off == len(settle)
		if len(discharge) > 0 {
			v.Discharge = str()
		}
		if !ok || r.bad || r.off != len(b) {
			return store.Visit{}, errVisitCorrupt
		}
	}
	v.Kind, v.State, v.Scheme = store.VisitKind(slot.kind), store.VisitState(slot.state), engine.Scheme(slot.scheme)
	v.Generation, v.DetailsVersion = int(slot.generation), slot.detailsVersion
	v.OpenedAt, v.SettledAt = slot.openedAt.time(), slot.settledAt.time()
	return v, nil
}
