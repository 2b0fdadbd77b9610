package memstore

import "hash/maphash"

// auditByRequest finds the audit events of a request id without a scan of
// the log: the last event of each hash of a request id, and for each event
// the one before it with the same hash, as event indexes plus one (0:
// none). Neither holds a pointer. A hash shared by several ids only makes
// the chain longer: the filter still tests every event it yields.
type auditByRequest struct {
	last map[uint64]uint32
	prev []uint32 // prev[i] for event index i
}

// requestSeed is the seed of requestHash, the process's own.
var requestSeed = maphash.MakeSeed()

// requestHash is the hash auditByRequest keeps request id requestID
// under; keyed is false for none ("").
func requestHash(requestID string) (h uint64, keyed bool) {
	if requestID == "" {
		return 0, false
	}
	return maphash.String(requestSeed, requestID), true
}

// add records event index i, of a request id whose hash is h (keyed
// false: none).
func (x *auditByRequest) add(i int, h uint64, keyed bool) {
	if x.last == nil {
		x.last = map[uint64]uint32{}
	}
	var p uint32
	if keyed {
		p = x.last[h]
		x.last[h] = uint32(i) + 1
	}
	x.prev = append(x.prev, p)
}

// after lists, in increasing order, the indexes above after of the events
// whose request id may be requestID.
func (x *auditByRequest) after(requestID string, after int) []int {
	if x.last == nil {
		return nil
	}
	var out []int
	h, _ := requestHash(requestID)
	for p := x.last[h]; p != 0 && int(p-1) >= after; p = x.prev[p-1] {
		out = append(out, int(p-1))
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
