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
// settlements.
type auditLog struct {
	mu     sync.RWMutex
	events []store.AuditEvent // in append order; ID i+1 at index i
}

// AppendAudit appends e with the next id.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	a := &s.audit
	a.mu.Lock()
	defer a.mu.Unlock()
	e.ID = int64(len(a.events)) + 1
	e.Time = e.Time.UTC().Truncate(time.Microsecond) // microseconds, as PostgreSQL keeps them
	e.ResultIDs = slices.Clone(e.ResultIDs)
	a.events = append(a.events, e)
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
	start := sort.Search(len(a.events), func(i int) bool { return a.events[i].ID > f.After })
	var out []store.AuditEvent
	for _, e := range a.events[start:] {
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
