package memstore_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// auditLoadedEvents is the size of the log BenchmarkMemstoreAppendAudit
// appends to: a few hours of audited calls under load, so that what an
// append touches beyond the log's end (an index of every request id, say)
// is mostly out of the cache.
const auditLoadedEvents = 1_000_000

// auditSeq counts the request ids of the events appendLoadedAudit appends.
var auditSeq int64

// appendLoadedAudit appends the audit event of the next Settle, each of
// its own request id, as the server does.
func appendLoadedAudit(ctx context.Context, s *memstore.Store) error {
	auditSeq++
	rid := strconv.FormatInt(auditSeq, 10)
	_, err := s.AppendAudit(ctx, store.AuditEvent{Time: time.Unix(1700000000, 0), Role: "institution", CallerInstitution: "H1",
		Method: "/medsettle.v1.SettlementService/Settle", RequestID: rid, SettlementID: "S" + rid, PersonID: "P0001", InstitutionID: "H1"})
	return err
}

// auditLoaded is the store of BenchmarkMemstoreAppendAudit, filled once
// per process with auditLoadedEvents events.
var auditLoaded = sync.OnceValues(func() (*memstore.Store, error) {
	ctx := context.Background()
	s := memstore.New()
	for range auditLoadedEvents {
		if err := appendLoadedAudit(ctx, s); err != nil {
			return nil, err
		}
	}
	return s, nil
})

// BenchmarkMemstoreAppendAudit is AppendAudit alone, one caller at a
// time, on a log that already holds a million events.
func BenchmarkMemstoreAppendAudit(b *testing.B) {
	ctx := context.Background()
	s, err := auditLoaded()
	if err != nil {
		b.Fatalf("filling the audit log: %v", err)
	}
	b.ReportAllocs()
	reportCPU(b)
	for b.Loop() {
		if err := appendLoadedAudit(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}
