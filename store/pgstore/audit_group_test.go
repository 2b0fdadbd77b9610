package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
)

// TestAuditGroup appends a group of events: their ids follow their order
// in the group, and each reads back as appended. A group holding an event
// PostgreSQL refuses (a NUL byte in a text) is appended again event by
// event: the others are kept, the bad one alone fails.
func TestAuditGroup(t *testing.T) {
	ctx := context.Background()
	st := groupFixture(t, pgstore.Options{})
	at := time.Date(2026, 3, 1, 8, 0, 0, 123456000, time.UTC)
	events := make([]store.AuditEvent, 6)
	for i := range events {
		events[i] = store.AuditEvent{Time: at.Add(time.Duration(i) * time.Second), Role: "institution", CallerInstitution: "GH",
			Method: "/medsettle.v1.SettlementService/Settle", RequestID: fmt.Sprintf("a-%d", i), PersonID: "GA", InstitutionID: "GH",
			MessageCount: 1, Code: int32(i)}
	}
	events[2].ResultIDs = []string{"S1", "S2"}
	// Ids that an array literal must quote: they read back as given.
	tricky := []string{`a"b`, `c\d`, "NULL", " sp ", "{x,y}", "", `\"`}
	events[4].ResultIDs = tricky
	ids, errs := pgstore.AppendAsGroup(ctx, st, events)
	for i := range events {
		if errs[i] != nil {
			t.Fatalf("event %d: %v", i, errs[i])
		}
		if i > 0 && ids[i] <= ids[i-1] {
			t.Errorf("ids %v do not follow the group's order", ids)
		}
	}
	got, err := st.AuditEvents(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(events) {
		t.Fatalf("%d events read back, want %d", len(got), len(events))
	}
	for i, e := range got {
		want := events[i]
		want.ID = ids[i]
		if fmt.Sprint(e) != fmt.Sprint(want) {
			t.Errorf("event %d reads back as\n%+v\nwant\n%+v", i, e, want)
		}
	}
	if !slices.Equal(got[4].ResultIDs, tricky) {
		t.Errorf("result ids read back as %q, want %q", got[4].ResultIDs, tricky)
	}

	bad := events[3]
	bad.RequestID = "bad\x00id"
	mixed := []store.AuditEvent{events[0], events[1], bad, events[4]}
	ids, errs = pgstore.AppendAsGroup(ctx, st, mixed)
	if errs[0] != nil || errs[1] != nil || errs[3] != nil || errs[2] == nil {
		t.Fatalf("a group with a refused event: %v, want only the third to fail", errs)
	}
	if ids[1] <= ids[0] || ids[3] <= ids[1] {
		t.Errorf("ids after the fallback %v do not follow the group's order", ids)
	}
	if got, err := st.AuditEvents(ctx, store.AuditFilter{}); err != nil || len(got) != len(events)+3 {
		t.Errorf("%d events after the second group (%v), want %d", len(got), err, len(events)+3)
	}
}

// TestAuditConcurrentAppends appends from many goroutines at once: every
// event is kept once, with its own id.
func TestAuditConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	st := groupFixture(t, pgstore.Options{})
	const n = 200
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := st.AppendAudit(ctx, store.AuditEvent{Time: time.Now(), Role: "admin", Method: "m", RequestID: fmt.Sprintf("c-%d", i)})
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("id %d given twice", id)
		}
		seen[id] = true
	}
	var all []store.AuditEvent
	for after := int64(0); ; {
		page, err := st.AuditEvents(ctx, store.AuditFilter{After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
	if len(all) != n {
		t.Errorf("%d events kept, want %d", len(all), n)
	}
	for _, e := range all {
		if !seen[e.ID] {
			t.Errorf("event %d kept but not answered", e.ID)
		}
	}
}
