package memstore

// hashIndex finds a slot by its key without a pointer per slot for the
// garbage collector: byHash maps the hash of a key to the slot first
// indexed under it, and a key whose hash is already taken goes to
// overflow, by the key itself (empty unless hashes collide). A hit in
// byHash may be another key's, so find checks it against the stored
// record. The settlement records (by id and by request key) and the
// visit book (by id and by number) each keep two. The zero value is not
// ready: init makes it empty.
type hashIndex[K comparable] struct {
	byHash   map[uint64]uint32
	overflow map[K]uint32
}

// init makes the index empty and ready.
func (x *hashIndex[K]) init() {
	x.byHash, x.overflow = map[uint64]uint32{}, map[K]uint32{}
}

// add indexes slot under key k of hash h; k must not be indexed yet.
func (x *hashIndex[K]) add(h uint64, k K, slot uint32) {
	if _, taken := x.byHash[h]; taken {
		x.overflow[k] = slot
		return
	}
	x.byHash[h] = slot
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
	if old, taken := x.byHash[h]; taken {
		if is(old) {
			return false
		}
		x.overflow[k] = slot
		return true
	}
	x.byHash[h] = slot
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
	slot, ok := x.byHash[h]
	if !ok || !is(slot) {
		return 0, false
	}
	return slot, true
}
