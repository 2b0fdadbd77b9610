package memstore

// hashIndex finds a slot by its key without a pointer per slot for the
// garbage collector: byHash maps the hash of a key, folded to 32 bits
// (short), to the slot first indexed under it, and a key whose short hash
// is already taken goes to overflow, by the key itself (empty unless
// hashes collide). A hit in byHash may be another key's, so find checks
// it against the stored record. The settlement records (by id and by
// request key) and the visit book (by id and by number) each keep two.
// The zero value is not ready: init makes it empty.
//
// 32 bits, not 64, because an entry of byHash is then 8 bytes instead of
// 16 (a 64-bit key is padded beside its 32-bit slot): the index of
// hundreds of thousands of settlements is half the size, and a lookup,
// which lands at a random place in it, misses the cache less
// (BenchmarkMemstoreSettle 2.90 → 2.75 µs CPU per call). The price is
// more keys in overflow: about n²/2³³ of n keys (some 30 of 500,000),
// each still checked.
type hashIndex[K comparable] struct {
	byHash   map[uint32]uint32
	overflow map[K]uint32
}

// short is a 64-bit hash folded to the 32 bits byHash keeps.
func short(h uint64) uint32 { return uint32(h ^ h>>32) }

// init makes the index empty and ready.
func (x *hashIndex[K]) init() {
	x.byHash, x.overflow = map[uint32]uint32{}, map[K]uint32{}
}

// add indexes slot under key k of hash h; k must not be indexed yet.
func (x *hashIndex[K]) add(h uint64, k K, slot uint32) {
	if _, taken := x.byHash[short(h)]; taken {
		x.overflow[k] = slot
		return
	}
	x.byHash[short(h)] = slot
}

// addAbsent indexes slot under key k of hash h unless k is indexed
// already (is reports whether the record of a slot has key k): then it
// indexes nothing and reports false. The index is probed once, where
// find and then add would probe it twice.
func (x *hashIndex[K]) addAbsent(h uint64, k K, slot uint32, is func(slot uint32) bool) bool {
	if len(x.overflow) > 0 {
		if _, ok := x.overflow[k]; ok {
			return false
		}
	}
	if old, taken := x.byHash[short(h)]; taken {
		if is(old) {
			return false
		}
		x.overflow[k] = slot
		return true
	}
	x.byHash[short(h)] = slot
	return true
}

// find returns the slot of key k, of hash h; is reports whether the
// record of a slot found by hash has key k.
func (x *hashIndex[K]) find(h uint64, k K, is func(slot uint32) bool) (uint32, bool) {
	if len(x.overflow) > 0 {
		if slot, ok := x.overflow[k]; ok {
			return slot, true
		}
	}
	slot, ok := x.byHash[short(h)]
	if !ok || !is(slot) {
		return 0, false
	}
	return slot, true
}
