package memstore

import (
	"fmt"

	"github.com/medsettle/medsettle/store"
)

// find returns the slot and the visit of id, or ErrNotFound. Call with
// b.mu held.
func (b *visitBook) find(id string) (uint32, store.Visit, error) {
	slot, ok := b.slotOfID(id)
	if !ok {
		return 0, store.Visit{}, fmt.Errorf("visit %q: %w", id, store.ErrNotFound)
	}
	v, err := b.load(slot)
	if err != nil {
		return 0, store.Visit{}, fmt.Errorf("visit %q: %w", id, err)
	}
	return slot, v, nil
}

// findSlot returns the slot of id, or ErrNotFound. Call with b.mu held.
func (b *visitBook) findSlot(id string) (uint32, *visitSlot, error) {
	slot, ok := b.slotOfID(id)
	if !ok {
		return 0, nil, fmt.Errorf("visit %q: %w", id, store.ErrNotFound)
	}
	return slot, b.slots.at(slot), nil
}

// load decodes the visit of slot, its fixed strings through the book's
// cache. Call with b.mu held.
func (b *visitBook) load(slot uint32) (store.Visit, error) {
	s := b.slots.at(slot)
	fixed, err := b.cache.fixed(slot, s.fixed, b.bytes(s.fixed))
	if err != nil {
		return store.Visit{}, err
	}
	return decodeVisit(s, &fixed, b.bytes(s.settle), b.bytes(s.discharge))
}

// bytes is the string group at ref, or nil for none (n 0).
func (b *visitBook) bytes(ref recordRef) []byte {
	if ref.n == 0 {
		return nil
	}
	return b.strs.at(ref)
}

// write stores an encoded string group and returns where it is: none (n
// 0) when enc is empty.
func (b *visitBook) write(enc []byte) recordRef {
	if len(enc) == 0 {
		return recordRef{}
	}
	return b.strs.write(nil, enc)
}

// add stores a new visit, not indexed yet, under key, and returns its
// slot. Call with b.mu held.
func (b *visitBook) add(v *store.Visit, key visitNumber) uint32 {
	if !b.index.ready() {
		b.index.init()
	}
	var scratch [256]byte
	s := visitSlot{
		fixed:     b.write(appendVisitFixed(scratch[:0], v)),
		settle:    b.write(appendVisitSettle(scratch[:0], v)),
		discharge: b.write(appendVisitDischarge(scratch[:0], v)),
	}
	setVisitNumbers(&s, v)
	slot := b.slots.append(s)
	b.index.add(slot, v.ID, key)
	return slot
}

// put stores v, which was old, in slot: its numbers in place, and anew
// each string group that changed; the lines of a visit that is not OPEN
// (they cannot change then) are frozen. A visit's id, institution, person,
// number, med_type and begin never change once it is open: a change is
// a bug, and panics. Call with b.mu held.
func (b *visitBook) put(slot uint32, old, v *store.Visit) {
	changed := changedStrings(old, v)
	if changed.fixed || old.Kind != v.Kind {
		panic(fmt.Sprintf("memstore: visit %s: a transition changed what never changes once open", old.ID))
	}
	s := b.slots.at(slot)
	var scratch [256]byte
	if changed.settle {
		s.settle = b.write(appendVisitSettle(scratch[:0], v))
	}
	if changed.discharge {
		s.discharge = b.write(appendVisitDischarge(scratch[:0], v))
	}
	setVisitNumbers(s, v)
	if v.State != store.VisitOpen {
		b.freezeLines(slot)
	}
}
