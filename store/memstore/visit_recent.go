package memstore

// visitRecentSize is how many visits a visitRecent remembers (a power of
// two): more than the claims a server has in flight.
const visitRecentSize = 1024

// visitRecent remembers the slots of the visits found by id last, one
// entry per id's recentKey, so that the calls a claim makes on one visit
// (its upload, read, mark check and mark) find it without hashing its id
// and probing the index's map of every visit. An entry is only a guess:
// its tag (more bits of the id's mix) turns away most other ids without
// reading the slot, which for another visit is seldom in the cache, and
// it is taken only when the slot's stored id is the id sought (a visit's
// id never changes and visits are never removed, so a slot once a
// visit's stays that visit's); any other id is found by the index. It
// holds no pointer; the book's mutex guards it. The zero value is empty.
type visitRecent [visitRecentSize]visitRecentEntry

// visitRecentEntry is a visitRecent's guess: the slot plus one (0: none)
// of the visit last found whose id has this entry, and that id's tag.
type visitRecentEntry struct {
	slot, tag uint32
}

// recentKey is the entry of id in a visitRecent and its tag there: its
// length and last eight bytes mixed, which for the gateway's ids (random
// hex at their end) spread well and cost less than hashing the whole id.
func recentKey(id string) (index, tag uint32) {
	x := uint64(len(id))
	for i := max(0, len(id)-8); i < len(id); i++ {
		x = x<<8 | uint64(id[i])
	}
	x *= 0x9e3779b97f4a7c15
	return uint32(x >> (64 - 10)), uint32(x) // visitRecentSize is 1 << 10
}

// recentSlot is the slot of the visit whose id is id if the book
// remembers it. Call with b.mu held.
func (b *visitBook) recentSlot(id string) (uint32, bool) {
	i, tag := recentKey(id)
	e := b.recent[i]
	if e.slot == 0 || e.tag != tag || e.slot > b.slots.len() {
		return 0, false
	}
	got, _, _, _, ok := b.keyOf(e.slot - 1)
	return e.slot - 1, ok && string(got) == id
}

// remember makes slot, found by id, the book's guess for id. Call with
// b.mu held.
func (b *visitBook) remember(id string, slot uint32) {
	i, tag := recentKey(id)
	b.recent[i] = visitRecentEntry{slot: slot + 1, tag: tag}
}
