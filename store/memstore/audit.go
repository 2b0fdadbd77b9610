package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/medsettle/medsettle/store"
)

// auditLog is the memory store's append-only audit log; its zero value is
// an empty log. It has its own mutex: appending does not wait for
// settlements. The events are kept encoded (audit_codec.go) in chunks of
// bytes, which the garbage collector does not scan and a growing log
// never copies. mu guards events, refs and hashes; the index by request
// id (byReq) has a mutex of its own, which a query takes before mu and
// the writer never takes.
type auditLog struct {
	mu     sync.RWMutex
	events byteChunks
	refs   []recordRef    // event ID i+1 is at refs[i]
	hashes []uint32       // hashes[i] is the requestHash of event ID i+1's request id
	byReq  auditByRequest // kept by its readers, from hashes (audit_index.go)
}

// at decodes the event with ID i+1. a.mu must be held.
func (a *auditLog) at(i int) (store.AuditEvent, error) {
	e, err := decodeAuditEvent(a.events.at(a.refs[i]))
	e.ID = int64(i) + 1
	return e, err
}

// add appends an event, encoded as enc, whose request id hashes to h
// (requestHash), and returns its ID. a.mu must be held for writing: the
// encoding and the hash, which need no lock, are done before it is
// taken. The index by request id is left to the queries that need it.
func (a *auditLog) add(enc []byte, h uint32) int64 {
	a.hashes = append(a.hashes, h)
	a.refs = append(a.refs, a.events.write(nil, enc))
	return int64(len(a.refs))
}

// AppendAudit appends e with the next id.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond) // microseconds, as PostgreSQL keeps them
	var buf [512]byte
	enc := appendAuditEvent(buf[:0], &e) // the ID is not encoded (audit_codec.go)
	h := requestHash(e.RequestID)
	a := &s.audit
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.add(enc, h), nil
}

// AuditEvents lists the events f selects after f.After, in append order.
func (s *Store) AuditEvents(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := &s.audit
	if f.RequestID != "" {
		a.rlockIndexed() // the index is brought up to date first
		defer a.runlockIndexed()
	} else {
		a.mu.RLock()
		defer a.mu.RUnlock()
	}
	limit := f.PageLimit()
	// Event ID i+1 is at i.
	start := int(min(max(f.After, 0), int64(len(a.refs))))
	var out []store.AuditEvent
	take := func(i int) error {
		if !mayMatch(a.events.at(a.refs[i]), &f) {
			return nil
		}
		e, err := a.at(i)
		if err == nil && f.Match(e) {
			out = append(out, e)
		}
		return err
	}
	if f.RequestID != "" {
		// Only the events of that request id can match.
		for _, i := range a.byReq.after(f.RequestID, start) {
			if len(out) == limit {
				break
			}
			if err := take(i); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	for i := start; i < len(a.refs) && len(out) < limit; i++ {
		if err := take(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}
