package memstore

import (
	"fmt"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// recordView is what clearing and reconciliation read of an encoded
// settlement record, read without allocating: its texts are spans of the
// record's bytes, made strings only for what is kept.
type recordView struct {
	id, requestID, institutionID, drgCode, policyRegion span
	state                                               engine.SettlementState
	visitType                                           engine.VisitType
	settleDate                                          engine.Date
	policyScheme                                        engine.Scheme
	breakdown                                           engine.Breakdown
	headerEnd                                           int // where the header ends: every span is before it
}

// span is where a text is in a record.
type span struct{ i, j int }

// in is the text of sp in rec.
func (sp span) in(rec []byte) []byte { return rec[sp.i:sp.j] }

// of is the text of sp in s, a string of the record (or of its first
// headerEnd bytes).
func (sp span) of(s string) string { return s[sp.i:sp.j] }

// viewRecord reads the view of an encoded record. An error wraps
// engine.ErrInvariant, as decodeRecord's.
func viewRecord(rec []byte) (recordView, error) {
	var v recordView
	r := recordReader{b: rec}
	v.id = r.spanOf()
	if r.byte() == 1 {
		r.int64()
		r.int64()
		r.int64()
		r.int64()
	}
	n := int(r.fixed32())
	if r.bad || n > len(rec)-r.off {
		return recordView{}, fmt.Errorf("%w: memstore: a settlement record is cut short", engine.ErrInvariant)
	}
	v.headerEnd = r.off + n
	r.b = rec[:v.headerEnd]
	// The header's first fields, in order (appendRecordHeader).
	v.state = engine.SettlementState(r.int64())
	v.visitType = engine.VisitType(r.int64())
	v.settleDate = engine.Date{Year: r.int(), Month: time.Month(r.int64()), Day: r.int()}
	v.policyScheme = engine.Scheme(r.int64())
	v.policyRegion = r.spanOf()
	v.institutionID = r.spanOf()
	v.requestID = r.spanOf()
	v.drgCode = r.spanOf()
	for _, m := range breakdownFields(&v.breakdown) {
		*m = r.money()
	}
	if r.bad {
		return recordView{}, fmt.Errorf("%w: memstore: a settlement record does not decode", engine.ErrInvariant)
	}
	return v, nil
}

func (r *recordReader) spanOf() span {
	i, j := r.span()
	return span{i, j}
}
