package memstore

import (
	"sync"

	"github.com/medsettle/medsettle/store"
)

// visitLock is the visit book's mutex. settle.go settles a visit by
// changing the v of the record the book's visit method handed it, with
// the lock held; Unlock first stores that record back into the book if
// its holder changed it, so that nothing is pending while the lock is
// free.
type visitLock struct {
	sync.Mutex
	// out is the record handed out since the lock was taken, or nil.
	out *visitRecord
}

// Unlock stores back the record handed out (visitBook.visit), if any,
// and unlocks.
func (l *visitLock) Unlock() {
	defer l.Mutex.Unlock()
	if r := l.out; r != nil {
		r.book.flush()
	}
}

// visitRecord is a visit decoded from its slot, as visitBook.visit hands
// it to settle.go: its holder may change v while it holds the book's
// lock, and the change is stored when the lock is released (visitLock).
type visitRecord struct {
	v    store.Visit
	was  store.Visit // v as decoded
	slot uint32
	book *visitBook
}

// visit returns the record of id, or ErrNotFound; a change its holder
// makes to its v is stored when b.mu is released. Call with b.mu held.
func (b *visitBook) visit(id string) (*visitRecord, error) {
	b.flush()
	slot, v, err := b.find(id)
	if err != nil {
		return nil, err
	}
	b.out = visitRecord{v: v, was: v, slot: slot, book: b}
	b.mu.out = &b.out
	return &b.out, nil
}

// flush stores back the record visit handed out, if any. Call with b.mu
// held.
func (b *visitBook) flush() {
	if r := b.mu.out; r != nil {
		b.mu.out = nil
		b.writeBack(r)
	}
}

// writeBack stores r's visit if its holder changed it, and forgets it.
// Call with b.mu held.
func (b *visitBook) writeBack(r *visitRecord) {
	if r.v != r.was {
		b.put(r.slot, &r.was, &r.v)
	}
	*r = visitRecord{}
}
