package memstore

import (
	"hash/maphash"
	"sync"
)

// auditByRequest finds the audit events of a request id without a scan of
// the log: the last event of each hash of a request id, and for each event
// the one before it with the same hash, as event indexes plus one (0:
// none). Neither holds a pointer. A hash shared by several ids only makes
// the chain longer: the filter still tests every event it yields.
//
// The writer does not keep it: appending an event only appends the hash
// of its request id to auditLog.hashes, and the query that needs the
// index first indexes the events appended since the last one
// (rlockIndexed). A map assignment per event, into a map of millions of
// entries that is cold in the cache, would otherwise be most of the cost
// of an append, and under the log's write lock, for a query operators
// rarely make. The zero value is an empty index.
type auditByRequest struct {
	// mu guards the fields below. It is taken before auditLog.mu, never
	// after it, and the writer does not take it.
	mu   sync.Mutex
	last map[uint32]uint32
	prev []uint32 // prev[i] for event index i; its length is the count of events indexed
}

// requestSeed is the seed of requestHash, the process's own.
var requestSeed = maphash.MakeSeed()

// requestHash is the hash auditByRequest keeps request id requestID
// under: 0 for none (""), else never 0 (a real hash of 0 becomes 1). 32
// bits are enough: two ids of the same hash only make a chain longer,
// since AuditEvents tests every event the index yields with its filter,
// and half the bits halve auditLog.hashes and the index's map keys.
func requestHash(requestID string) uint32 {
	if requestID == "" {
		return 0
	}
	return max(short(maphash.String(requestSeed, requestID)), 1)
}

// index indexes the events of hashes (auditLog.hashes, or a snapshot of
// it) that x has not indexed yet; every event x has indexed must be in
// hashes. x.mu must be held. hashes is only read, and only below its
// length, which the log's writer never writes again: a snapshot taken
// under auditLog.mu may be read after it is released.
func (x *auditByRequest) index(hashes []uint32) {
	if x.last == nil {
		x.last = map[uint32]uint32{}
	}
	for i := len(x.prev); i < len(hashes); i++ {
		var p uint32
		if h := hashes[i]; h != 0 {
			p = x.last[h]
			x.last[h] = uint32(i) + 1
		}
		x.prev = append(x.prev, p)
	}
}

// after lists, in increasing order, the indexes above after of the events
// indexed whose request id may be requestID. x.mu must be held.
func (x *auditByRequest) after(requestID string, after int) []int {
	var out []int
	for p := x.last[requestHash(requestID)]; p != 0 && int(p-1) >= after; p = x.prev[p-1] {
		out = append(out, int(p-1))
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// rlockIndexed takes a.byReq.mu and a.mu for reading, and indexes in
// a.byReq every event of the log, for a query by request id; the caller
// releases both (runlockIndexed). Most events are indexed without a.mu,
// from a snapshot of a.hashes: the first query after millions of appends
// indexes them all, and the appends, which take only a.mu, go on
// meanwhile. Under a.mu again, only those appended meanwhile are left.
func (a *auditLog) rlockIndexed() {
	a.byReq.mu.Lock()
	a.mu.RLock()
	hashes := a.hashes
	a.mu.RUnlock()
	a.byReq.index(hashes)
	a.mu.RLock()
	a.byReq.index(a.hashes)
}

// runlockIndexed releases what rlockIndexed took.
func (a *auditLog) runlockIndexed() {
	a.mu.RUnlock()
	a.byReq.mu.Unlock()
}
