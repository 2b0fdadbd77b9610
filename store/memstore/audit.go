package memstore

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/medsettle/medsettle/store"
)

// auditLog is the memory store's append-only audit log; its zero value is
// an empty log. It has its own mutex: appending does not wait for
// settlements. The events are kept in chunks of auditChunk: a growing log
// never copies the events it holds (a single slice would copy them all,
// and leave the old copy to the garbage collector, each time it doubled).
type auditLog struct {
	mu     sync.RWMutex
	chunks [][]store.AuditEvent // in append order; ID i+1 at chunks[i/auditChunk][i%auditChunk]
	n      int                  // events held
}

// auditChunk is the number of events of one chunk of the log.
const auditChunk = 4096

// at is the event with ID i+1. a.mu must be held.
func (a *auditLog) at(i int) *store.AuditEvent {
	return &a.chunks[i/auditChunk][i%auditChunk]
}

// add appends e. a.mu must be held for writing.
func (a *auditLog) add(e store.AuditEvent) {
	if a.n%auditChunk == 0 {
		a.chunks = append(a.chunks, make([]store.AuditEvent, 0, auditChunk))
	}
	last := &a.chunks[len(a.chunks)-1]
	*last = append(*last, e)
	a.n++
}

// AppendAudit appends e with the next id.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	a := &s.audit
	a.mu.Lock()
	defer a.mu.Unlock()
	e.ID = int64(a.n) + 1
	e.Time = e.Time.UTC().Truncate(time.Microsecond) // microseconds, as PostgreSQL keeps them
	e.ResultIDs = slices.Clone(e.ResultIDs)
	a.add(e)
	return e.ID, nil
}

// AuditEvents lists the events f selects after f.After, in append order.
func (s *Store) AuditEvents(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := &s.audit
	a.mu.RLock()
	defer a.mu.RUnlock()
	limit := f.PageLimit()
	start := sort.Search(a.n, func(i int) bool { return a.at(i).ID > f.After })
	var out []store.AuditEvent
	for i := start; i < a.n; i++ {
		e := *a.at(i)
		if len(out) == limit {
			break
		}
		if f.Match(e) {
			e.ResultIDs = slices.Clone(e.ResultIDs)
			out = append(out, e)
		}
	}
	return out, nil
}
