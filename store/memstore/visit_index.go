package memstore

import (
	"encoding/binary"
	"hash/maphash"

	"github.com/medsettle/medsettle/store"
)

// visitIndex finds a visit's slot by its id and by its visitNumber
// without a pointer per visit: byID and byNumber map the hash of an id or
// of a number to the slot, and an id or number whose hash is already
// another's goes to the overflow maps instead (keyed by the id or number
// itself, so these hold pointers, but only for the rare colliding hash).
// Every hit of a hash is checked against the visit's stored strings. The
// zero value is not ready: the book calls init before its first visit.
type visitIndex struct {
	seed           maphash.Seed
	byID           map[uint64]uint32
	idOverflow     map[string]uint32
	byNumber       map[uint64]uint32
	numberOverflow map[visitNumber]uint32
	// collide makes every hash 0, for the tests that make every visit's
	// id and number collide (TestVisitConformanceAllHashesCollide).
	collide bool
}

// init makes the index empty and ready.
func (x *visitIndex) init() {
	x.seed = maphash.MakeSeed()
	x.byID, x.idOverflow = map[uint64]uint32{}, map[string]uint32{}
	x.byNumber, x.numberOverflow = map[uint64]uint32{}, map[visitNumber]uint32{}
}

// ready reports whether init was called.
func (x *visitIndex) ready() bool { return x.byID != nil }

// idHash is the hash of a visit id.
func (x *visitIndex) idHash(id string) uint64 {
	if x.collide {
		return 0
	}
	return maphash.String(x.seed, id)
}

// numberHash is the hash of a visit number.
func (x *visitIndex) numberHash(k visitNumber) uint64 {
	if x.collide {
		return 0
	}
	var h maphash.Hash
	h.SetSeed(x.seed)
	var n [2 * binary.MaxVarintLen64]byte
	b := binary.AppendUvarint(n[:0], uint64(len(k.institution)))
	h.Write(binary.AppendVarint(b, int64(k.kind)))
	h.WriteString(k.institution)
	h.WriteString(k.number)
	return h.Sum64()
}

// add indexes slot under its id and number, both not indexed yet.
func (x *visitIndex) add(slot uint32, id string, k visitNumber) {
	if h := x.idHash(id); x.hasID(h) {
		x.idOverflow[id] = slot
	} else {
		x.byID[h] = slot
	}
	if h := x.numberHash(k); x.hasNumber(h) {
		x.numberOverflow[k] = slot
	} else {
		x.byNumber[h] = slot
	}
}

// hasID reports whether an id of hash h is in byID.
func (x *visitIndex) hasID(h uint64) bool { _, ok := x.byID[h]; return ok }

// hasNumber reports whether a number of hash h is in byNumber.
func (x *visitIndex) hasNumber(h uint64) bool { _, ok := x.byNumber[h]; return ok }

// slotOfID finds the slot of the visit whose id is id.
func (b *visitBook) slotOfID(id string) (uint32, bool) {
	x := &b.index
	if !x.ready() {
		return 0, false
	}
	if len(x.idOverflow) > 0 {
		if slot, ok := x.idOverflow[id]; ok {
			return slot, true
		}
	}
	slot, ok := x.byID[x.idHash(id)]
	if !ok {
		return 0, false
	}
	if got, _, _, _, ok := b.keyOf(slot); !ok || string(got) != id {
		return 0, false
	}
	return slot, true
}

// slotOfNumber finds the slot of the visit whose number is k.
func (b *visitBook) slotOfNumber(k visitNumber) (uint32, bool) {
	x := &b.index
	if !x.ready() {
		return 0, false
	}
	if len(x.numberOverflow) > 0 {
		if slot, ok := x.numberOverflow[k]; ok {
			return slot, true
		}
	}
	slot, ok := x.byNumber[x.numberHash(k)]
	if !ok {
		return 0, false
	}
	_, institution, number, kind, ok := b.keyOf(slot)
	if !ok || string(institution) != k.institution || kind != k.kind || string(number) != k.number {
		return 0, false
	}
	return slot, true
}

// keyOf is the id and number of the visit of slot, read without
// allocating; ok is false if its strings are corrupt (then it names
// nothing).
func (b *visitBook) keyOf(slot uint32) (id, institution, number []byte, kind store.VisitKind, ok bool) {
	s := b.slots.at(slot)
	r := recordReader{b: b.strs.at(s.fixed)}
	id, institution = r.bytes(), r.bytes()
	r.skipStr()
	number = r.bytes()
	return id, institution, number, store.VisitKind(s.kind), !r.bad
}
