package national

import (
	"context"
	"fmt"
	"sync"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// DefaultVisitCacheSize is how many visits' attributes a Gateway keeps in
// memory (WithVisitCacheSize): some 20 MB at 100,000.
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

// visitCache keeps the attributes of up to max visits by id, for any
// number of goroutines: when it is full, keeping one more forgets one at
// random. One of max 0, or a nil one, keeps nothing. Visits are never
// deleted, and their attributes never change, so an entry is never
// stale.
type visitCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]visitAttrs
}

// newVisitCache is a cache of up to max visits (none when max is not
// positive).
func newVisitCache(max int) *visitCache {
	if max <= 0 {
		return &visitCache{}
	}
	return &visitCache{max: max, m: make(map[string]visitAttrs, min(max, 1024))}
}

// get is the attributes of visit id, if they are kept.
func (c *visitCache) get(id string) (visitAttrs, bool) {
	if c == nil {
		return visitAttrs{}, false
	}
	c.mu.RLock()
	a, ok := c.m[id]
	c.mu.RUnlock()
	return a, ok
}

// keep keeps the attributes of v (as a store answered it).
func (c *visitCache) keep(v store.Visit) {
	if c == nil || c.max <= 0 || v.ID == "" {
		return
	}
	a := attrsOf(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[v.ID]; !ok && len(c.m) >= c.max {
		for id := range c.m { // a map's range starts at random
			delete(c.m, id)
			break
		}
	}
	c.m[v.ID] = a
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
	if a, ok := g.visitAttrs.get(string(mdtrtID)); ok {
		if a.institution != c.Cred.InstitutionID {
			return store.Visit{}, false, unknownVisit(string(mdtrtID))
		}
		return a.visit(string(mdtrtID)), false, nil
	}
	v, err = institutionVisit(ctx, g, c, mdtrtID)
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
