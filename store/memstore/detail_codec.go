package memstore

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"

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

// addFresh appends lines[i] to l for each i of fresh, in that order,
// growing l.enc at most once.
func (l *detailLines) addFresh(lines []store.FeeDetail, fresh []int) {
	size := 0
	for _, i := range fresh {
		n := detailBodyLen(&lines[i])
		size += uvarintLen(uint64(n)) + n
	}
	l.enc = slices.Grow(l.enc, size)
	for _, i := range fresh {
		d := &lines[i]
		l.enc = binary.AppendUvarint(l.enc, uint64(detailBodyLen(d)))
		l.enc = appendDetailBody(l.enc, d)
		l.n++
	}
}

// detailBodyLen is the length of d's body (appendDetailBody).
func detailBodyLen(d *store.FeeDetail) int {
	n := varintLen(d.Quantity.Scaled()) + varintLen(d.UnitPrice.Scaled()) + varintLen(d.Amount.Fen())
	for _, s := range [...]string{d.SN, d.Batch, d.Code, d.Name, d.FeeTime, d.MedType} {
		n += uvarintLen(uint64(len(s))) + len(s)
	}
	return n
}

// uvarintLen is the length of x as binary.AppendUvarint writes it.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// varintLen is the length of x as binary.AppendVarint writes it.
func varintLen(x int64) int {
	ux := uint64(x) << 1
	if x < 0 {
		ux = ^ux
	}
	return uvarintLen(ux)
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
	return decodeDetailIn(visitID, body, string(body))
}

// decodeDetailIn is the line body of visitID, its strings substrings of
// s, which is body as a string (no allocation).
func decodeDetailIn(visitID string, body []byte, s string) (store.FeeDetail, error) {
	r := recordReader{b: body, s: s}
	d := store.FeeDetail{VisitID: visitID, SN: r.str(), Batch: r.str(), Code: r.str(), Name: r.str(), FeeTime: r.str(), MedType: r.str()}
	d.Quantity, d.UnitPrice, d.Amount = engine.QuantityFromScaled(r.int64()), engine.PriceFromScaled(r.int64()), r.money()
	if r.bad || r.off != len(body) {
		return store.FeeDetail{}, errDetailCorrupt
	}
	return d, nil
}

// detailWhole reports whether body is a whole line body, as
// decodeDetail would read it, without allocating.
func detailWhole(body []byte) bool {
	r := recordReader{b: body}
	for range 6 {
		r.skipStr()
	}
	r.int64()
	r.int64()
	r.int64()
	return !r.bad && r.off == len(body)
}
