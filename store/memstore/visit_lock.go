package memstore

import (
	"github.com/medsettle/medsettle/store"
)

// visitRecord is a visit decoded from its slot, as visitBook.visit hands
// it to settleMark: its holder changes v while it holds the book's mutex,
// and stores the change with visitBook.save before releasing it.
type visitRecord struct {
	v    store.Visit
	was  store.Visit // v as decoded, or as last saved
	slot uint32
}

// visit returns the record of id, or ErrNotFound. The record is the
// book's one scratch record (no allocation): it is valid until b.mu is
// released or visit is called again. Call with b.mu held.
func (b *visitBook) visit(id string) (*visitRecord, error) {
	slot, v, err := b.find(id)
	if err != nil {
		return nil, err
	}
	b.out = visitRecord{v: v, was: v, slot: slot}
	return &b.out, nil
}

// save stores r's visit if its holder changed it since visit handed it
// out (or since the last save). Call with b.mu held.
func (b *visitBook) save(r *visitRecord) {
	if r.v != r.was {
		b.put(r.slot, &r.was, &r.v)
		r.was = r.v
	}
}

// settleMark checks that the visit of mark may be settled and marks it
// settled by settlementID, under b.mu (which it takes): the refusals are
// store.Visit.SettledByMark's. The caller holds the visit's stripe
// (visitStripes), not the store's mutex.
func (b *visitBook) settleMark(mark store.VisitMark, settlementID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.visit(mark.VisitID)
	if err != nil {
		return err
	}
	v, err := r.v.SettledByMark(mark, settlementID, b.clock())
	if err != nil {
		return err
	}
	r.v = v
	b.save(r)
	return nil
}
