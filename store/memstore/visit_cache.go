package memstore

// visitCacheSize is how many visits' fixed strings a visitCache holds.
const visitCacheSize = 256

// visitCache remembers the fixed strings (visitFixed) of the visits the
// book decoded last, one entry per slot modulo visitCacheSize, so that
// the calls a claim makes on one visit (read it with its details, check
// its mark, settle it) allocate its fixed strings once, not at each call.
// An entry is good while its slot's fixed ref is the one it was decoded
// from (bytes once written never change; strings written anew get a new
// ref). It holds the strings of at most visitCacheSize visits whatever
// the book's size. The zero value is empty; the book's mutex guards it.
type visitCache [visitCacheSize]visitCacheEntry

// visitCacheEntry is the fixed strings of one slot, decoded from ref (n
// 0: the entry is empty, as no visit's fixed strings are).
type visitCacheEntry struct {
	slot  uint32
	ref   recordRef
	fixed visitFixed
}

// fixed is the fixed strings of slot, at ref and encoded in enc.
func (c *visitCache) fixed(slot uint32, ref recordRef, enc []byte) (visitFixed, error) {
	e := &c[slot%visitCacheSize]
	if e.ref.n != 0 && e.slot == slot && e.ref == ref {
		return e.fixed, nil
	}
	f, err := decodeVisitFixed(enc)
	if err != nil {
		return visitFixed{}, err
	}
	*e = visitCacheEntry{slot: slot, ref: ref, fixed: f}
	return f, nil
}
