package memstore

import (
	"encoding/binary"
	"hash/maphash"
)

// records holds the settlement records encoded (record_codec.go) in
// pointer-free chunks of bytes, and the indexes that find them, none of
// which holds a pointer per settlement either: the garbage collector does
// not scan what grows with every settlement. Each settlement has a slot, a
// number given in commit order; a reversal appends the record anew and
// moves its slot to it. Bytes once written never change, so a record read
// under the store's mutex (its chunk and span) may be decoded after the
// mutex is released. init makes it empty; the caller holds the store's
// mutex (for writing to add or replace).
type records struct {
	byteChunks
	seed maphash.Seed
	refs []recordRef

	// byID finds a slot by its settlement id, bySettleKey by its request
	// key (institution, request id) (hashIndex: every hit is checked
	// against the record).
	byID        hashIndex[string]
	bySettleKey hashIndex[requestKey]

	// hashMask is ANDed into every hash: all ones, or 0 in the tests
	// that make every id and key collide (TestConformanceAllHashesCollide).
	hashMask uint64
}

func (rs *records) init() {
	rs.seed = maphash.MakeSeed()
	rs.byID.init()
	rs.bySettleKey.init()
	rs.hashMask = ^uint64(0)
}

// idHash is the hash of a settlement id.
func (rs *records) idHash(id string) uint64 { return maphash.String(rs.seed, id) & rs.hashMask }

// bytes is the encoded record of a slot.
func (rs *records) bytes(slot uint32) []byte { return rs.at(rs.refs[slot]) }

// claimID indexes id as the id of the next record add stores, unless a
// settlement has it (LoadSettlements stores given ids as they are): then
// it indexes nothing and reports false. Checking and indexing a new id
// probe the index once: a new id's place is not in the cache, the index
// holding every settlement. Nothing may look id up before add stores its
// record.
func (rs *records) claimID(id string) bool {
	return rs.byID.addAbsent(rs.idHash(id), id, uint32(len(rs.refs)), func(slot uint32) bool { return string(recordID(rs.bytes(slot))) == id })
}

// add stores a new settlement's record, whose id claimID has just
// claimed, and returns its slot.
func (rs *records) add(ref recordRef) uint32 {
	slot := uint32(len(rs.refs))
	rs.refs = append(rs.refs, ref)
	return slot
}

// replace points a slot at a new record of the same settlement.
func (rs *records) replace(slot uint32, ref recordRef) { rs.refs[slot] = ref }

// slotOf finds the slot of a settlement id.
func (rs *records) slotOf(id string) (uint32, bool) {
	return rs.byID.find(rs.idHash(id), id, func(slot uint32) bool { return string(recordID(rs.bytes(slot))) == id })
}

// keyHash is the hash of a request key. A settlement computes it once,
// before it takes the store's mutex, for its three lookups and its
// insert.
func (rs *records) keyHash(k requestKey) uint64 {
	var h maphash.Hash
	h.SetSeed(rs.seed)
	var n [binary.MaxVarintLen64]byte
	h.Write(binary.AppendUvarint(n[:0], uint64(len(k.institution))))
	h.WriteString(k.institution)
	h.WriteString(k.requestID)
	return h.Sum64() & rs.hashMask
}

// addSettleKey records that a settlement's own request key (its claim's
// institution and request id), of hash h (keyHash), names slot.
func (rs *records) addSettleKey(k requestKey, h uint64, slot uint32) {
	rs.bySettleKey.add(h, k, slot)
}

// settleKey finds the settlement whose claim has request key k, of hash h
// (keyHash), and returns its slot and recorded fingerprint (bytes of the
// record).
func (rs *records) settleKey(k requestKey, h uint64) (uint32, []byte, bool) {
	var fp []byte
	slot, ok := rs.bySettleKey.find(h, k, func(slot uint32) bool {
		f, in, req := recordKey(rs.bytes(slot))
		fp = f
		return string(in) == k.institution && string(req) == k.requestID
	})
	if !ok {
		return 0, nil, false
	}
	if fp == nil { // found in the overflow, unchecked
		fp, _, _ = recordKey(rs.bytes(slot))
	}
	return slot, fp, true
}
