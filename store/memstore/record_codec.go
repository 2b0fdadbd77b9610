package memstore

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// The settlement records memstore keeps are encoded into pointer-free
// bytes (docs/DECISIONS.md, "Settlement records are kept encoded"), so the
// garbage collector never scans them. A record is
//
//	ID, budget, headerLen (4 bytes, little-endian), header (headerLen bytes), tail
//
// where budget is 0, or 1 and the BudgetStatus; the header holds the
// claim's fields but its items and the result's fields but its details
// and delta, what clearing reads first (appendRecordHeader), and the
// state, the fingerprint and the reversal; the tail holds the items, the
// details, the fund layers, the account balance read, the delta and the
// balance after the reversal (0 for none, else 1 and the amount; set once
// the settlement is reversed: engine.Settlement.BalanceAfterReversal).
// Integers are varints (signed ones zigzagged), strings a uvarint length and their bytes, a slice or map a
// uvarint of its length plus one (0 for nil) and its elements, map entries
// in key order. The ID and the budget come first because Settle knows them
// only under the store's lock; appendRecordBody encodes everything else
// before it. Clearing and reconciliation read the header only
// (record_view.go).

// appendRecord appends the whole encoded record of st to b.
func appendRecord(b []byte, st *engine.Settlement) []byte {
	b = appendRecordPrefix(b, st.ID, st.Result.Budget)
	return appendRecordBody(b, st)
}

// appendRecordPrefix appends a record's ID and budget.
func appendRecordPrefix(b []byte, id string, budget *engine.BudgetStatus) []byte {
	b = appendString(b, id)
	if budget == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, int64(budget.Year))
	b = binary.AppendVarint(b, budget.Limit.Fen())
	b = binary.AppendVarint(b, budget.Used.Fen())
	return binary.AppendVarint(b, int64(budget.State))
}

// appendRecordBody appends everything of a record after its budget: the
// header's length, the header and the tail.
func appendRecordBody(b []byte, st *engine.Settlement) []byte {
	b = append(b, 0, 0, 0, 0)
	start := len(b)
	b = appendRecordHeader(b, st)
	binary.LittleEndian.PutUint32(b[start-4:], uint32(len(b)-start))
	return appendRecordTail(b, st)
}

func appendRecordHeader(b []byte, st *engine.Settlement) []byte {
	c, r := &st.Claim, &st.Result
	// What a clearing run selects by, then what it reads (recordView),
	// then the rest.
	b = binary.AppendVarint(b, int64(st.State))
	b = binary.AppendVarint(b, int64(c.VisitType))
	b = binary.AppendVarint(b, int64(c.SettleDate.Year))
	b = binary.AppendVarint(b, int64(c.SettleDate.Month))
	b = binary.AppendVarint(b, int64(c.SettleDate.Day))
	b = binary.AppendVarint(b, int64(r.PolicyScheme))
	b = appendString(b, r.PolicyRegion)
	b = appendString(b, c.InstitutionID)
	b = appendString(b, c.RequestID)
	b = appendString(b, c.DRGCode)
	for _, m := range breakdownFields(&r.Breakdown) {
		b = binary.AppendVarint(b, m.Fen())
	}
	b = appendString(b, st.Fingerprint)
	b = appendString(b, st.ReversalReason)
	b = appendString(b, st.ReversalRequestID)
	b = appendString(b, c.PersonID)
	b = binary.AppendVarint(b, int64(c.CrossRegion))
	b = appendBool(b, c.UsePersonalAccount)
	b = appendString(b, r.PolicyVersion)
	b = binary.AppendVarint(b, int64(r.CrossRegion))
	b = binary.AppendVarint(b, r.WarnRatio.Scaled())
	if r.BudgetLimit == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	return binary.AppendVarint(b, r.BudgetLimit.Fen())
}

func appendRecordTail(b []byte, st *engine.Settlement) []byte {
	items := st.Claim.Items
	b = appendLen(b, items == nil, len(items))
	for i := range items {
		it := &items[i]
		b = appendString(b, it.Code)
		b = appendString(b, it.Name)
		b = binary.AppendVarint(b, it.Quantity.Scaled())
		b = binary.AppendVarint(b, it.UnitPrice.Scaled())
		b = binary.AppendVarint(b, it.Amount.Fen())
	}
	details := st.Result.Details
	b = appendLen(b, details == nil, len(details))
	for i := range details {
		d := &details[i]
		b = binary.AppendVarint(b, int64(d.Fund))
		b = binary.AppendVarint(b, int64(d.Band))
		b = binary.AppendVarint(b, d.Ratio.Scaled())
		b = binary.AppendVarint(b, d.Base.Fen())
		b = binary.AppendVarint(b, d.Amount.Fen())
	}
	layers := st.Result.Layers
	b = appendLen(b, layers == nil, len(layers))
	for i := range layers {
		b = appendLayer(b, &layers[i])
	}
	b = binary.AppendVarint(b, st.Result.AccountBalance.Fen())
	b = appendAccumulators(b, &st.Result.Delta)
	return appendOptMoney(b, st.BalanceAfterReversal)
}

func appendLayer(b []byte, l *engine.Layer) []byte {
	b = binary.AppendVarint(b, int64(l.Fund))
	b = binary.AppendVarint(b, l.From.Fen())
	b = binary.AppendVarint(b, l.Base.Fen())
	b = binary.AppendVarint(b, l.Threshold.Fen())
	b = appendLen(b, l.Bands == nil, len(l.Bands))
	for _, band := range l.Bands {
		b = appendOptMoney(b, band.UpTo)
		b = binary.AppendVarint(b, band.Ratio.Scaled())
	}
	b = appendOptMoney(b, l.Cap)
	b = binary.AppendVarint(b, l.Room.Fen())
	b = binary.AppendVarint(b, l.Raw.Fen())
	b = binary.AppendVarint(b, l.Paid.Fen())
	b = appendOptMoney(b, l.Ceiling)
	return binary.AppendVarint(b, l.CeilingPaid.Fen())
}

// appendOptMoney appends 0 for nil, else 1 and the amount.
func appendOptMoney(b []byte, m *engine.Money) []byte {
	if m == nil {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), m.Fen())
}

func appendAccumulators(b []byte, a *engine.Accumulators) []byte {
	b = appendString(b, a.PersonID)
	b = binary.AppendVarint(b, int64(a.Year))
	b = binary.AppendVarint(b, int64(a.InpatientCount))
	b = appendLen(b, a.VisitTypes == nil, len(a.VisitTypes))
	if len(a.VisitTypes) > 0 {
		var keys [8]engine.VisitType
		vs := keys[:0]
		for v := range a.VisitTypes {
			vs = append(vs, v)
		}
		slices.Sort(vs)
		for _, v := range vs {
			va := a.VisitTypes[v]
			b = binary.AppendVarint(b, int64(v))
			b = binary.AppendVarint(b, va.InScope.Fen())
			b = binary.AppendVarint(b, va.DeductiblePaid.Fen())
		}
	}
	b = appendLen(b, a.PoolUsed == nil, len(a.PoolUsed))
	if len(a.PoolUsed) > 0 {
		var keys [8]string
		names := keys[:0]
		for n := range a.PoolUsed {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			b = appendString(b, n)
			b = binary.AppendVarint(b, a.PoolUsed[n].Fen())
		}
	}
	for _, m := range [...]engine.Money{a.CatastrophicBase, a.CatastrophicPaid, a.AidBase, a.AidPaid, a.AidOutOfPocket} {
		b = binary.AppendVarint(b, m.Fen())
	}
	return b
}

// breakdownLen is the number of a breakdown's figures.
const breakdownLen = 14

// breakdownFields are pointers to a breakdown's figures, in the order
// they are encoded.
func breakdownFields(bd *engine.Breakdown) [breakdownLen]*engine.Money {
	return [breakdownLen]*engine.Money{&bd.Total, &bd.OutOfScope, &bd.OverLimit, &bd.PreSelfPay, &bd.InScope,
		&bd.Deductible, &bd.BasicFund, &bd.OverCap, &bd.Catastrophic, &bd.MedicalAid,
		&bd.FundTotal, &bd.PersonalTotal, &bd.Account, &bd.Cash}
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendLen appends a slice's or map's length plus one, or 0 for nil.
func appendLen(b []byte, isNil bool, n int) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

// decodeRecord decodes a record. An error (wrapping engine.ErrInvariant)
// means the bytes are not a record: memstore only reads what it wrote, so
// it is a bug.
func decodeRecord(rec []byte) (engine.Settlement, error) {
	if _, ok := headerEnd(rec); !ok {
		return engine.Settlement{}, fmt.Errorf("%w: memstore: a settlement record is cut short", engine.ErrInvariant)
	}
	// The strings are substrings of one copy of the record.
	r := recordReader{b: rec, s: string(rec)}
	var st engine.Settlement
	st.ID = r.str()
	if r.byte() == 1 {
		st.Result.Budget = &engine.BudgetStatus{
			Year: r.int(), Limit: r.money(), Used: r.money(), State: engine.BudgetState(r.int64()),
		}
	}
	r.fixed32() // the header's length
	r.header(&st)
	r.tail(&st)
	if r.bad || r.off != len(r.b) {
		return engine.Settlement{}, fmt.Errorf("%w: memstore: a settlement record does not decode", engine.ErrInvariant)
	}
	return st, nil
}

// headerEnd is the offset at which rec's header ends.
func headerEnd(rec []byte) (int, bool) {
	r := recordReader{b: rec}
	r.skipStr()
	if r.byte() == 1 {
		r.int64()
		r.int64()
		r.int64()
		r.int64()
	}
	n := uint64(r.fixed32())
	if r.bad || n > uint64(len(rec)-r.off) {
		return 0, false
	}
	return r.off + int(n), true
}

// recordID is the ID of an encoded record, as bytes of it.
func recordID(rec []byte) []byte {
	r := recordReader{b: rec}
	return r.bytes()
}

// recordKey is the fingerprint, institution and request id of an encoded
// record, as bytes of it.
func recordKey(rec []byte) (fingerprint, institution, requestID []byte) {
	r := recordReader{b: rec}
	r.skipStr()
	if r.byte() == 1 {
		r.int64()
		r.int64()
		r.int64()
		r.int64()
	}
	r.fixed32()
	for range 6 { // state, visit type, settle date, policy scheme
		r.int64()
	}
	r.skipStr() // policy region
	institution = r.bytes()
	requestID = r.bytes()
	r.skipStr() // DRG code
	for range breakdownLen {
		r.int64()
	}
	fingerprint = r.bytes()
	return fingerprint, institution, requestID
}

func (r *recordReader) header(st *engine.Settlement) {
	c, res := &st.Claim, &st.Result
	st.State = engine.SettlementState(r.int64())
	c.VisitType = engine.VisitType(r.int64())
	c.SettleDate = engine.Date{Year: r.int(), Month: time.Month(r.int64()), Day: r.int()}
	res.PolicyScheme = engine.Scheme(r.int64())
	res.PolicyRegion = r.str()
	c.InstitutionID = r.str()
	c.RequestID = r.str()
	c.DRGCode = r.str()
	for _, m := range breakdownFields(&res.Breakdown) {
		*m = r.money()
	}
	st.Fingerprint = r.str()
	st.ReversalReason = r.str()
	st.ReversalRequestID = r.str()
	c.PersonID = r.str()
	c.CrossRegion = engine.CrossRegion(r.int64())
	c.UsePersonalAccount = r.byte() == 1
	res.PolicyVersion = r.str()
	res.CrossRegion = engine.CrossRegion(r.int64())
	res.WarnRatio = engine.RatioFromScaled(r.int64())
	if r.byte() == 1 {
		l := r.money()
		res.BudgetLimit = &l
	}
}

func (r *recordReader) tail(st *engine.Settlement) {
	if n, ok := r.len(); ok {
		st.Claim.Items = make([]engine.LineItem, n)
		for i := range st.Claim.Items {
			it := &st.Claim.Items[i]
			it.Code = r.str()
			it.Name = r.str()
			it.Quantity = engine.QuantityFromScaled(r.int64())
			it.UnitPrice = engine.PriceFromScaled(r.int64())
			it.Amount = r.money()
		}
	}
	if n, ok := r.len(); ok {
		st.Result.Details = make([]engine.Detail, n)
		for i := range st.Result.Details {
			d := &st.Result.Details[i]
			d.Fund = engine.Fund(r.int64())
			d.Band = r.int()
			d.Ratio = engine.RatioFromScaled(r.int64())
			d.Base = r.money()
			d.Amount = r.money()
		}
	}
	if n, ok := r.len(); ok {
		st.Result.Layers = make([]engine.Layer, n)
		for i := range st.Result.Layers {
			r.layer(&st.Result.Layers[i])
		}
	}
	st.Result.AccountBalance = r.money()
	a := &st.Result.Delta
	a.PersonID = r.str()
	a.Year = r.int()
	a.InpatientCount = r.int()
	if n, ok := r.len(); ok {
		a.VisitTypes = make(map[engine.VisitType]engine.VisitAccumulator, n)
		for range n {
			v := engine.VisitType(r.int64())
			a.VisitTypes[v] = engine.VisitAccumulator{InScope: r.money(), DeductiblePaid: r.money()}
		}
	}
	if n, ok := r.len(); ok {
		a.PoolUsed = make(map[string]engine.Money, n)
		for range n {
			name := r.str()
			a.PoolUsed[name] = r.money()
		}
	}
	for _, m := range [...]*engine.Money{&a.CatastrophicBase, &a.CatastrophicPaid, &a.AidBase, &a.AidPaid, &a.AidOutOfPocket} {
		*m = r.money()
	}
	st.BalanceAfterReversal = r.optMoney()
}

func (r *recordReader) layer(l *engine.Layer) {
	l.Fund = engine.Fund(r.int64())
	l.From = r.money()
	l.Base = r.money()
	l.Threshold = r.money()
	if n, ok := r.len(); ok {
		l.Bands = make([]engine.Band, n)
		for i := range l.Bands {
			l.Bands[i].UpTo = r.optMoney()
			l.Bands[i].Ratio = engine.RatioFromScaled(r.int64())
		}
	}
	l.Cap = r.optMoney()
	l.Room = r.money()
	l.Raw = r.money()
	l.Paid = r.money()
	l.Ceiling = r.optMoney()
	l.CeilingPaid = r.money()
}

// optMoney reads what appendOptMoney wrote.
func (r *recordReader) optMoney() *engine.Money {
	if r.byte() != 1 {
		return nil
	}
	m := r.money()
	return &m
}
