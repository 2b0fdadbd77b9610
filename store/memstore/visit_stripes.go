package memstore

import "sync"

// visitStripeCount is how many locks visitStripes has (a power of two):
// with some 64 calls in flight, two of them on different visits share a
// lock seldom (about 1.5 % of the time), and then only wait for each
// other, never deadlock (no call holds two).
const visitStripeCount = 4096

// visitStripes serialises the calls on one visit: whoever reads or changes
// a visit holds its stripe (the lock of its id's hash) around the book's
// mutex, and a settlement that marks a visit holds it from the check of
// the mark to the mark itself. So a visit cannot change between a
// settlement's check and its mark, and the store's mutex is never held
// while the book's is awaited: a settlement takes the book's mutex only
// after releasing the store's (Store.settle), instead of waiting for it,
// under the store's mutex, behind the uploads of other visits.
//
// Lock order: stripe → person → store's mutex or book's mutex (never
// both held, never one awaited while the other is held). A settlement
// takes its visit's stripe before its person's lock: while it waits for
// the person (other settlements of the person, a busy ward), uploads to
// the visit wait for it rather than make its mark stale each time it
// gets there. Nothing takes a person's lock and then a stripe.
type visitStripes [visitStripeCount]sync.Mutex

// lock takes the stripe of visit id and returns it, to be unlocked.
func (v *visitStripes) lock(id string) *sync.Mutex {
	m := &v[stripeOf(id)]
	m.Lock()
	return m
}

// stripeOf is the index of visit id's stripe: FNV-1a, cheap, allocating
// nothing, and spreading the gateway's ids (a prefix and a counter).
func stripeOf(id string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return h & (visitStripeCount - 1)
}
