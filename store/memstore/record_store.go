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

	// byID finds a slot by the hash of its settlement id, and bySettleKey
	// by the hash of its request key (institution, request id); a hash
	// taken by another id or key goes to the overflow maps instead. Every
	// hit is checked against the record.
	byID              map[uint64]uint32
	idOverflow        map[string]uint32
	bySettleKey       map[uint64]uint32
	settleKeyOverflow map[requestKey]uint32

	// hashMask is ANDed into every hash: all ones, or 0 in the tests
	// that make every id and key collide (TestConformanceAllHashesCollide).
	hashMask uint64
}

func (rs *records) init() {
	rs.seed = maphash.MakeSeed()
	rs.byID = map[uint64]uint32{}
	rs.idOverflow = map[string]uint32{}
	rs.bySettleKey = map[uint64]uint32{}
	rs.settleKeyOverflow = map[requestKey]uint32{}
	rs.hashMask = ^uint64(0)
}

// idHash is the hash of a settlement id.
func (rs *records) idHash(id string) uint64 { return maphash.String(rs.seed, id) & rs.hashMask }

// bytes is the encoded record of a slot.
func (rs *records) bytes(slot uint32) []byte { return rs.at(rs.refs[slot]) }

// add stores a new settlement's record and returns its slot.
func (rs *records) add(id string, ref recordRef) uint32 {
	slot := uint32(len(rs.refs))
	rs.refs = append(rs.refs, ref)
	h := rs.idHash(id)
	if _, taken := rs.byID[h]; taken {
		rs.idOverflow[id] = slot
	} else {
		rs.byID[h] = slot
	}
	return slot
}

// replace points a slot at a new record of the same settlement.
func (rs *records) replace(slot uint32, ref recordRef) { rs.refs[slot] = ref }

// slotOf finds the slot of a settlement id.
func (rs *records) slotOf(id string) (uint32, bool) {
	if len(rs.idOverflow) > 0 {
		if slot, ok := rs.idOverflow[id]; ok {
			return slot, true
		}
	}
	slot, ok := rs.byID[rs.idHash(id)]
	if !ok || string(recordID(rs.bytes(slot))) != id {
		return 0, false
	}
	return slot, true
}

// keyHash is the hash of a request key.
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
// institution and request id) names slot.
func (rs *records) addSettleKey(k requestKey, slot uint32) {
	h := rs.keyHash(k)
	if _, taken := rs.bySettleKey[h]; taken {
		rs.settleKeyOverflow[k] = slot
		return
	}
	rs.bySettleKey[h] = slot
}

// settleKey finds the settlement whose claim has request key k, and
// returns its slot and recorded fingerprint (bytes of the record).
func (rs *records) settleKey(k requestKey) (uint32, []byte, bool) {
	if len(rs.settleKeyOverflow) > 0 {
		if slot, ok := rs.settleKeyOverflow[k]; ok {
			fp, _, _ := recordKey(rs.bytes(slot))
			return slot, fp, true
		}
	}
	slot, ok := rs.bySettleKey[rs.keyHash(k)]
	if !ok {
		return 0, nil, false
	}
	fp, in, req := recordKey(rs.bytes(slot))
	if string(in) != k.institution || string(req) != k.requestID {
		return 0, nil, false
	}
	return slot, fp, true
}
