package memstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/medsettle/medsettle/store"
)

// TestAuditLogAcrossChunks appends more events than two chunks hold and
// reads them back page by page from several starting points: every event
// comes once, in order, with its id, whatever chunk it is in.
func TestAuditLogAcrossChunks(t *testing.T) {
	ctx := context.Background()
	s := New()
	const n = 2*auditChunk + 123
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for i := range n {
		id, err := s.AppendAudit(ctx, store.AuditEvent{Time: at, Method: "/m", RequestID: fmt.Sprintf("r%d", i+1), ResultIDs: []string{"S"}})
		if err != nil || id != int64(i+1) {
			t.Fatalf("append %d: id %d, %v", i+1, id, err)
		}
	}
	for _, after := range []int64{0, auditChunk - 1, auditChunk, auditChunk + 1, n - 5, n} {
		next := after
		for {
			page, err := s.AuditEvents(ctx, store.AuditFilter{After: next, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				next++
				if e.ID != next || e.RequestID != fmt.Sprintf("r%d", next) {
					t.Fatalf("after %d: event %d (%s), want %d", after, e.ID, e.RequestID, next)
				}
			}
		}
		if next != n {
			t.Fatalf("after %d: read up to %d of %d", after, next, n)
		}
	}
	// A filter that skips most events still pages across chunks.
	page, err := s.AuditEvents(ctx, store.AuditFilter{RequestID: fmt.Sprintf("r%d", auditChunk+7)})
	if err != nil || len(page) != 1 || page[0].ID != auditChunk+7 {
		t.Fatalf("by request id: %v, %v", page, err)
	}
}
