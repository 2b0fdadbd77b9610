package national

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"unsafe"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// DefaultVisitCacheSize is how many visits' attributes a Gateway keeps in
// memory (WithVisitCacheSize): some 25 MB at 100,000, none of which the
// collector scans (no pointer).
const DefaultVisitCacheSize = 100_000

// WithVisitCacheSize sets how many visits' attributes the gateway keeps
// in memory to check an upload or a cancellation of fee details without
// reading the visit (DefaultVisitCacheSize; 0 or less keeps none).
func WithVisitCacheSize(n int) Option {
	return func(g *Gateway) { g.visitAttrs = newVisitCache(n) }
}

// visitAttrs is what never changes of a visit after OpenVisit: whose it is
// and how it was opened. Its state, settlement and details do change, and
// are not kept.
type visitAttrs struct {
	institution, person string
	kind                store.VisitKind
	number              string
	scheme              engine.Scheme
	medType, begin      string
}

// attrsOf is v's attributes.
func attrsOf(v store.Visit) visitAttrs {
	return visitAttrs{institution: v.InstitutionID, person: v.PersonID, kind: v.Kind, number: v.Number,
		scheme: v.Scheme, medType: v.MedType, begin: v.Begin}
}

// visit is the visit id with attributes a, and nothing else known of it:
// its State is VisitStateUnspecified.
func (a visitAttrs) visit(id string) store.Visit {
	return store.Visit{ID: id, InstitutionID: a.institution, PersonID: a.person, Kind: a.kind, Number: a.number,
		Scheme: a.scheme, MedType: a.medType, Begin: a.begin}
}

// visitKey is a visit id as the cache's key, without a pointer: an id
// longer than its room (national ids have at most store.MaxVisitIDLen
// bytes) is not cached.
type visitKey struct {
	n  uint8
	id [47]byte
}

// keyOf is id's key, false when it does not fit.
func keyOf(id string) (visitKey, bool) {
	var k visitKey
	if len(id) > len(k.id) {
		return k, false
	}
	k.n = uint8(len(id))
	copy(k.id[:], id)
	return k, true
}

// packedAttrs are a visit's attributes without a pointer: the texts one
// after another, where each ends, and the two enums. Attributes whose
// texts do not fit are not cached.
type packedAttrs struct {
	kind, scheme uint8
	ends         [5]uint8 // of institution, person, number, medType, begin
	text         [121]byte
}

// pack is a's packed form, false when it does not fit.
func pack(a visitAttrs) (packedAttrs, bool) {
	var p packedAttrs
	if a.kind < 0 || a.kind > 255 || a.scheme < 0 || a.scheme > 255 {
		return p, false
	}
	p.kind, p.scheme = uint8(a.kind), uint8(a.scheme)
	n := 0
	for i, s := range [...]string{a.institution, a.person, a.number, a.medType, a.begin} {
		if len(s) > len(p.text)-n {
			return p, false
		}
		n += copy(p.text[n:], s)
		p.ends[i] = uint8(n)
	}
	return p, true
}

// institution is the packed attributes' institution, not copied.
func (p *packedAttrs) institution() []byte { return p.text[:p.ends[0]] }

// unpack is the attributes packed, their texts one string.
func (p *packedAttrs) unpack() visitAttrs {
	all := string(p.text[:p.ends[4]])
	e := p.ends
	return visitAttrs{institution: all[:e[0]], person: all[e[0]:e[1]], number: all[e[1]:e[2]],
		medType: all[e[2]:e[3]], begin: all[e[3]:e[4]], kind: store.VisitKind(p.kind), scheme: engine.Scheme(p.scheme)}
}

// visitShards is how many shards a cache of at least that many visits
// has, each its own lock and map, so that keeping a visit in one blocks
// only the lookups of that one's visits: a power of two, a shard being
// picked by masking a hash. A smaller cache has fewer (visitCache).
const visitShards = 64

// cacheLine is the size a shard is padded to, so that two shards' locks
// never share a line of the processor's cache.
const cacheLine = 64

// visitCache keeps the attributes of up to max visits by id, for any
// number of goroutines: a visit is kept in the shard its id hashes to,
// and when that shard is full, keeping one more forgets one of its visits
// at random. There are visitShards shards, or as many as the largest
// power of two not above max when max is smaller, and their sizes add up
// to max exactly (each max/shards, the first max%shards one more, so
// none is empty): it never keeps more than max visits, but may forget
// one before it keeps max, when the visits do not hash evenly. One of max
// 0, or a nil one, keeps nothing. Visits are never deleted, and their
// attributes never change, so an entry is never stale. Its maps hold no
// pointer (visitKey, packedAttrs): however many visits it keeps, the
// collector does not scan them.
type visitCache struct {
	seed   maphash.Seed // of the hash picking a visit's shard, this cache's own
	mask   uint64       // len(shards)-1: a hash's bits that pick its shard
	shards []visitShard // none when the cache keeps nothing
}

// shardState is what a shard of a visitCache is, without its padding.
type shardState struct {
	mu  sync.RWMutex
	max int                      // how many visits the shard keeps at most, at least 1
	m   map[visitKey]packedAttrs // the visits it keeps
}

// visitShard is a shard of a visitCache, padded to a whole line of the
// processor's cache (cacheLine).
type visitShard struct {
	shardState
	_ [cacheLine - unsafe.Sizeof(shardState{})%cacheLine]byte
}

// newVisitCache is a cache of up to max visits (none when max is not
// positive).
func newVisitCache(max int) *visitCache {
	if max <= 0 {
		return &visitCache{}
	}
	n := visitShards
	for n > max {
		n /= 2
	}
	c := &visitCache{seed: maphash.MakeSeed(), mask: uint64(n - 1), shards: make([]visitShard, n)}
	for i := range c.shards {
		s := &c.shards[i]
		s.max = max / n
		if i < max%n {
			s.max++
		}
		s.m = make(map[visitKey]packedAttrs, min(s.max, 1024/n)) // some 1024 in all, as they grow
	}
	return c
}

// shard is the shard of the cache keeping visit id, nil when the cache
// keeps nothing.
func (c *visitCache) shard(id string) *visitShard {
	if c == nil || len(c.shards) == 0 {
		return nil
	}
	return &c.shards[maphash.String(c.seed, id)&c.mask]
}

// lookup is the packed attributes of visit id, if they are kept.
func (c *visitCache) lookup(id string) (packedAttrs, bool) {
	k, fits := keyOf(id)
	s := c.shard(id)
	if s == nil || !fits {
		return packedAttrs{}, false
	}
	s.mu.RLock()
	p, ok := s.m[k]
	s.mu.RUnlock()
	return p, ok
}

// get is the attributes of visit id, if they are kept.
func (c *visitCache) get(id string) (visitAttrs, bool) {
	p, ok := c.lookup(id)
	if !ok {
		return visitAttrs{}, false
	}
	return p.unpack(), true
}

// keep keeps the attributes of v (as a store answered it), unless they
// or its id do not fit the cache's room.
func (c *visitCache) keep(v store.Visit) {
	s, k, ok := c.place(v)
	if !ok {
		return
	}
	s.mu.RLock()
	_, kept := s.m[k]
	s.mu.RUnlock()
	if kept {
		return // a visit's attributes never change
	}
	s.put(k, v)
}

// keepMissed is keep of a visit that a lookup did not find a moment ago
// (knownVisit): it goes straight to the shard's write lock, without
// looking for the visit first under the read lock.
func (c *visitCache) keepMissed(v store.Visit) {
	if s, k, ok := c.place(v); ok {
		s.put(k, v)
	}
}

// place is the shard and key that would keep v, false when the cache
// keeps nothing or v has no id or one that does not fit.
func (c *visitCache) place(v store.Visit) (*visitShard, visitKey, bool) {
	if v.ID == "" {
		return nil, visitKey{}, false
	}
	s := c.shard(v.ID)
	k, fits := keyOf(v.ID)
	return s, k, s != nil && fits
}

// put keeps the attributes of v, whose key is k, in shard s (forgetting
// one of its visits at random when it is full and v is not in it),
// unless they do not fit.
func (s *visitShard) put(k visitKey, v store.Visit) {
	p, packed := pack(attrsOf(v))
	if !packed {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[k]; !ok && len(s.m) >= s.max {
		for id := range s.m { // a map's range starts at random
			delete(s.m, id)
			break
		}
	}
	s.m[k] = p
}

// knownVisit is the visit mdtrtID of the calling institution, as
// institutionVisit checks it, from the cache when its attributes are
// there (then read is false and only the attributes are known: the
// caller learns its state from the store's ErrVisitNotOpen), else read
// from the store (read is true, and the attributes are kept).
func knownVisit(ctx context.Context, g *Gateway, c *Call, mdtrtID text) (v store.Visit, read bool, err error) {
	if err := requireID("mdtrt_id", mdtrtID); err != nil {
		return store.Visit{}, false, err
	}
	if p, ok := g.visitAttrs.lookup(string(mdtrtID)); ok {
		if string(p.institution()) != c.Cred.InstitutionID {
			return store.Visit{}, false, unknownVisit(string(mdtrtID))
		}
		return p.unpack().visit(string(mdtrtID)), false, nil
	}
	// institutionVisit, keeping the visit without looking for it again.
	v, err = g.visits.GetVisit(ctx, string(mdtrtID))
	if err == nil {
		g.visitAttrs.keepMissed(v)
	}
	v, err = ofInstitution(c, mdtrtID, v, err)
	return v, err == nil, err
}

// stillOpen reads visit id, which exists, and refuses it as notOpen unless
// it is OPEN.
func stillOpen(ctx context.Context, g *Gateway, id, what string) error {
	v, err := g.visits.GetVisit(ctx, id)
	if err != nil {
		return fmt.Errorf("reading visit %q: %w", id, err)
	}
	if v.State != store.VisitOpen {
		return notOpen(v, what)
	}
	return nil
}
