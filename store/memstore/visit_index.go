package memstore

import (
	"encoding/binary"
	"hash/maphash"

	"github.com/medsettle/medsettle/store"
)

// visitIndex finds a visit's slot by its id and by its visitNumber
// without a pointer per visit (hashIndex, as the settlement records):
// every hit of a hash is checked against the visit's stored strings. The
// zero value is not ready: the book calls init before its first visit.
type visitIndex struct {
	seed     maphash.Seed
	byID     hashIndex[string]
	byNumber hashIndex[visitNumber]
	// collide makes every hash 0, for the tests that make every visit's
	// id and number collide (TestVisitConformanceAllHashesCollide).
	collide bool
}

// init makes the index empty and ready.
func (x *visitIndex) init() {
	x.seed = maphash.MakeSeed()
	x.byID.init()
	x.byNumber.init()
}

// ready reports whether init was called.
func (x *visitIndex) ready() bool { return x.byID.byHash != nil }

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
	x.byID.add(x.idHash(id), id, slot)
	x.byNumber.add(x.numberHash(k), k, slot)
}

// slotOfID finds the slot of the visit whose id is id: one of the
// visits found last (visitRecent), or by the index.
func (b *visitBook) slotOfID(id string) (uint32, bool) {
	x := &b.index
	if !x.ready() {
		return 0, false
	}
	if slot, ok := b.recentSlot(id); ok {
		return slot, true
	}
	slot, ok := x.byID.find(x.idHash(id), id, func(slot uint32) bool {
		got, _, _, _, ok := b.keyOf(slot)
		return ok && string(got) == id
	})
	if ok {
		b.remember(id, slot)
	}
	return slot, ok
}

// slotOfNumber finds the slot of the visit whose number is k.
func (b *visitBook) slotOfNumber(k visitNumber) (uint32, bool) {
	x := &b.index
	if !x.ready() {
		return 0, false
	}
	return x.byNumber.find(x.numberHash(k), k, func(slot uint32) bool {
		_, institution, number, kind, ok := b.keyOf(slot)
		return ok && string(institution) == k.institution && kind == k.kind && string(number) == k.number
	})
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
