package pgstore

import (
	"slices"
	"sync"

	"github.com/medsettle/medsettle/engine"
)

// instCache holds the institutions read, as policyCache holds the
// policies: every Settle and PreSettle reads its institution, which was a
// round trip and a statement of its own per call. PutInstitution tells
// every server over the policy channel (LISTEN/NOTIFY) and drops this
// server's cache itself once committed; every notification, and every
// reconnect of the listener, drops it. An institution read from the
// database while a change was being announced is not kept (gen).
type instCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]engine.Institution
}

// get returns a copy of the cached institution, and the generation to
// give put when there is none.
func (c *instCache) get(id string) (engine.Institution, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in, ok := c.m[id]
	if ok {
		in.Budgets = slices.Clone(in.Budgets)
	}
	return in, c.gen, ok
}

// put keeps an institution read from the database, unless the cache was
// dropped since get returned gen.
func (c *instCache) put(in engine.Institution, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.m == nil {
		c.m = make(map[string]engine.Institution)
	}
	in.Budgets = slices.Clone(in.Budgets)
	c.m[in.ID] = in
}

// invalidate drops every cached institution.
func (c *instCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.m = nil
	c.mu.Unlock()
}
