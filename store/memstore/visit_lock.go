package memstore

import (
	"github.com/medsettle/medsettle/store"
)

// visitRecord is a visit decoded from its slot, as visitBook.visit hands
// it to settle.go: its holder changes v while it holds the book's mutex,
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
