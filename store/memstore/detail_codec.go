package memstore

import (
	"encoding/binary"
	"errors"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// detailLines is a visit's live fee-detail lines in upload order, kept
// encoded in one pointer-free byte slice: each line its body's length
// (uvarint) and its body (appendDetailBody). A visit book of millions of
// lines then costs the garbage collector one pointer per visit to mark,
// not eight per line, as the settlement records (record_codec.go).
type detailLines struct {
	enc []byte
	n   int
}

// errDetailCorrupt means an encoded line could not be read: a bug, never
// input.
var errDetailCorrupt = errors.New("memstore: an encoded fee-detail line is corrupt")

// appendDetailBody appends d's fields but VisitID: SN, Batch, Code, Name,
// FeeTime and MedType as length-prefixed strings, then the quantity, the
// unit price and the amount in their scaled units (varints).
func appendDetailBody(b []byte, d *store.FeeDetail) []byte {
	for _, s := range [...]string{d.SN, d.Batch, d.Code, d.Name, d.FeeTime, d.MedType} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, d.Quantity.Scaled())
	b = binary.AppendVarint(b, d.UnitPrice.Scaled())
	return binary.AppendVarint(b, d.Amount.Fen())
}

// add appends lines to l, in order.
func (l *detailLines) add(lines []store.FeeDetail) {
	var scratch [512]byte
	for i := range lines {
		body := appendDetailBody(scratch[:0], &lines[i])
		l.enc = binary.AppendUvarint(l.enc, uint64(len(body)))
		l.enc = append(l.enc, body...)
		l.n++
	}
}

// each calls f with each line's body in order until f returns false; it
// reports false if an encoded line is corrupt.
func (l *detailLines) each(f func(body []byte) bool) bool {
	for off := 0; off < len(l.enc); {
		n, k := binary.Uvarint(l.enc[off:])
		if k <= 0 || uint64(len(l.enc)-off-k) < n {
			return false
		}
		body := l.enc[off+k : off+k+int(n)]
		off += k + int(n)
		if !f(body) {
			return true
		}
	}
	return true
}

// detailKey is a line body's SN and Batch, read without allocating (ok
// false if corrupt).
func detailKey(body []byte) (sn, batch []byte, ok bool) {
	sn, rest, ok := cutString(body)
	if !ok {
		return nil, nil, false
	}
	batch, _, ok = cutString(rest)
	return sn, batch, ok
}

// cutString reads a length-prefixed string off b.
func cutString(b []byte) (s, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// decodeDetail is the line body of visitID, its strings sharing one
// allocation.
func decodeDetail(visitID string, body []byte) (store.FeeDetail, error) {
	all := string(body)
	d := store.FeeDetail{VisitID: visitID}
	off := 0
	for _, dst := range [...]*string{&d.SN, &d.Batch, &d.Code, &d.Name, &d.FeeTime, &d.MedType} {
		n, k := binary.Uvarint(body[off:])
		if k <= 0 || uint64(len(body)-off-k) < n {
			return store.FeeDetail{}, errDetailCorrupt
		}
		*dst = all[off+k : off+k+int(n)]
		off += k + int(n)
	}
	var v [3]int64
	for i := range v {
		x, k := binary.Varint(body[off:])
		if k <= 0 {
			return store.FeeDetail{}, errDetailCorrupt
		}
		v[i], off = x, off+k
	}
	if off != len(body) {
		return store.FeeDetail{}, errDetailCorrupt
	}
	d.Quantity, d.UnitPrice, d.Amount = engine.QuantityFromScaled(v[0]), engine.PriceFromScaled(v[1]), engine.MoneyFromFen(v[2])
	return d, nil
}
