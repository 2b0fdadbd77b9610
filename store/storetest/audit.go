package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/medsettle/medsettle/store"
)

// auditEvent is a full event for the audit tests: every field set.
func auditEvent(i int, method, inst, person string, code int32, at time.Time) store.AuditEvent {
	return store.AuditEvent{
		Time: at, Role: "institution", CallerInstitution: inst, Method: method,
		RequestID: fmt.Sprintf("req-%d", i), SettlementID: fmt.Sprintf("ST%d", i), PersonID: person, InstitutionID: inst,
		Region: "R", Scheme: "EMPLOYEE", Version: "v1", RunID: "RUN", ContractID: "K", FilingID: "F",
		MessageCount: int64(i), Code: code, ResultIDs: []string{fmt.Sprintf("out-%d", i), "x"},
	}
}

// testAudit appends events and reads them back: ids increase in append
// order, every field round-trips (time in UTC to the microsecond), each
// filter selects what it names, After and Limit page, and returned values
// are copies.
func testAudit(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	if got, err := st.AuditEvents(ctx, store.AuditFilter{}); err != nil || len(got) != 0 {
		t.Fatalf("empty log: %v, %v", got, err)
	}
	base := time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	var want []store.AuditEvent
	var last int64
	for i := range 12 {
		method := "/m/Settle"
		if i%3 == 0 {
			method = "/m/PutPerson"
		}
		inst := "H1"
		if i%2 == 1 {
			inst = "H2"
		}
		code := int32(0)
		if i%4 == 3 {
			code = 7
		}
		e := auditEvent(i, method, inst, fmt.Sprintf("P%d", i%5), code, base.Add(time.Duration(i)*time.Minute))
		id, err := st.AppendAudit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if id <= last {
			t.Fatalf("event %d: id %d after %d", i, id, last)
		}
		last = id
		e.ID = id
		e.Time = e.Time.UTC().Truncate(time.Microsecond)
		want = append(want, e)
	}
	got, err := st.AuditEvents(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("all events:\n got %+v\nwant %+v", got, want)
	}
	got[0].ResultIDs[0] = "changed"
	again, err := st.AuditEvents(ctx, store.AuditFilter{Limit: 1})
	if err != nil || len(again) != 1 || again[0].ResultIDs[0] != "out-0" {
		t.Fatalf("returned events are not copies: %v, %v", again, err)
	}

	pick := func(keep func(e store.AuditEvent) bool) []store.AuditEvent {
		var out []store.AuditEvent
		for _, e := range want {
			if keep(e) {
				out = append(out, e)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		keep func(e store.AuditEvent) bool
	}{
		{"method", store.AuditFilter{Method: "/m/PutPerson"}, func(e store.AuditEvent) bool { return e.Method == "/m/PutPerson" }},
		{"institution", store.AuditFilter{Institution: "H2"}, func(e store.AuditEvent) bool { return e.InstitutionID == "H2" }},
		{"person", store.AuditFilter{PersonID: "P2"}, func(e store.AuditEvent) bool { return e.PersonID == "P2" }},
		{"request", store.AuditFilter{RequestID: "req-5"}, func(e store.AuditEvent) bool { return e.RequestID == "req-5" }},
		{"code", store.AuditFilter{Code: 7, HasCode: true}, func(e store.AuditEvent) bool { return e.Code == 7 }},
		{"code OK", store.AuditFilter{HasCode: true}, func(e store.AuditEvent) bool { return e.Code == 0 }},
		{"time", store.AuditFilter{From: base.Add(2 * time.Minute), To: base.Add(5 * time.Minute)},
			func(e store.AuditEvent) bool {
				return !e.Time.Before(base.Add(2*time.Minute).Truncate(time.Microsecond)) && e.Time.Before(base.Add(5*time.Minute).Truncate(time.Microsecond))
			}},
		{"all of them", store.AuditFilter{Method: "/m/Settle", Institution: "H1", HasCode: true},
			func(e store.AuditEvent) bool {
				return e.Method == "/m/Settle" && e.InstitutionID == "H1" && e.Code == 0
			}},
		{"none", store.AuditFilter{PersonID: "nobody"}, func(store.AuditEvent) bool { return false }},
	} {
		got, err := st.AuditEvents(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if w := pick(tc.keep); (len(w) > 0 || len(got) > 0) && !reflect.DeepEqual(got, w) || len(w) == len(want) {
			t.Errorf("%s: got %d events %+v, want %d %+v", tc.name, len(got), got, len(w), w)
		}
	}

	// Pages of 5 with After: the same events, in order, each once.
	var paged []store.AuditEvent
	after := int64(0)
	for range 10 {
		page, err := st.AuditEvents(ctx, store.AuditFilter{After: after, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 5 {
			t.Fatalf("page of %d events, limit 5", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].ID
	}
	if !reflect.DeepEqual(paged, want) {
		t.Fatalf("paged:\n got %+v\nwant %+v", paged, want)
	}
	// A filtered page after an id.
	page, err := st.AuditEvents(ctx, store.AuditFilter{Institution: "H1", After: want[4].ID, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if w := []store.AuditEvent{want[6], want[8]}; !reflect.DeepEqual(page, w) {
		t.Fatalf("filtered page after %d:\n got %+v\nwant %+v", want[4].ID, page, w)
	}
}

// testAuditLimit checks that one call returns at most MaxAuditPage events
// whatever Limit asks.
func testAuditLimit(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range store.MaxAuditPage + 3 {
		if _, err := st.AppendAudit(ctx, store.AuditEvent{Time: at, Role: "admin", Method: "/m/X", MessageCount: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []int{0, -1, store.MaxAuditPage + 1} {
		got, err := st.AuditEvents(ctx, store.AuditFilter{Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != store.MaxAuditPage {
			t.Errorf("limit %d: %d events, want %d", limit, len(got), store.MaxAuditPage)
		}
	}
}
