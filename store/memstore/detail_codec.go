package memstore

import (
	"encoding/binary"
	"fmt"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// detailLines is a visit's live fee-detail lines in upload order, kept
// encoded in one pointer-free byte slice: each line's body
// (appendDetailBody) as a string of record_codec.go's (appendString). A visit book of millions of
// lines then costs the garbage collector one pointer per visit to mark,
// not eight per line, as the settlement records (record_codec.go).
type detailLines struct {
	enc []byte
	n   int
}

// errDetailCorrupt means an encoded line could not be read: a bug, never
// input.
var errDetailCorrupt = fmt.Errorf("%w: memstore: an encoded fee-detail line is corrupt", engine.ErrInvariant)

// appendDetailBody appends d's fields but VisitID: SN, Batch, Code, Name,
// FeeTime and MedType as strings (appendString), then the quantity, the
// unit price and the amount in their scaled units (varints).
func appendDetailBody(b []byte, d *store.FeeDetail) []byte {
	for _, s := range [...]string{d.SN, d.Batch, d.Code, d.Name, d.FeeTime, d.MedType} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, d.Quantity.Scaled())
	b = binary.AppendVarint(b, d.UnitPrice.Scaled())
	return binary.AppendVarint(b, d.Amount.Fen())
}

// add appends lines to l, in order.
func (l *detailLines) add(lines []store.FeeDetail) {
	var scratch [512]byte
	for i := range lines {
		l.enc = appendString(l.enc, string(appendDetailBody(scratch[:0], &lines[i])))
		l.n++
	}
}

// each calls f with each line's body in order until f returns false; it
// reports false if an encoded line is corrupt.
func (l *detailLines) each(f func(body []byte) bool) bool {
	r := recordReader{b: l.enc}
	for r.off < len(r.b) {
		body := r.bytes()
		if r.bad {
			return false
		}
		if !f(body) {
			return true
		}
	}
	return true
}

// detailKey is a line body's SN and Batch, read without allocating (ok
// false if corrupt).
func detailKey(body []byte) (sn, batch []byte, ok bool) {
	r := recordReader{b: body}
	sn, batch = r.bytes(), r.bytes()
	return sn, batch, !r.bad
}

// decodeDetail is the line body of visitID, its strings sharing one
// allocation.
func decodeDetail(visitID string, body []byte) (store.FeeDetail, error) {
	r := recordReader{b: body, s: string(body)}
	d := store.FeeDetail{VisitID: visitID, SN: r.str(), Batch: r.str(), Code: r.str(), Name: r.str(), FeeTime: r.str(), MedType: r.str()}
	d.Quantity, d.UnitPrice, d.Amount = engine.QuantityFromScaled(r.int64()), engine.PriceFromScaled(r.int64()), r.money()
	if r.bad || r.off != len(body) {
		return store.FeeDetail{}, errDetailCorrupt
	}
	return d, nil
}
