package pgstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// TestAuditLogIsAppendOnly appends events, then tries to change and remove
// them with SQL of its own, as an owner of the schema could: the triggers
// of migration 0006 refuse UPDATE, DELETE and TRUNCATE, and the events
// stay as they were.
func TestAuditLogIsAppendOnly(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	ctx := context.Background()
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, m := range []string{"/m/Settle", "/m/PutPerson"} {
		if _, err := st.AppendAudit(ctx, store.AuditEvent{Time: at, Role: "admin", Method: m, ResultIDs: []string{"ST1"}}); err != nil {
			t.Fatal(err)
		}
	}
	before, err := st.AuditEvents(ctx, store.AuditFilter{})
	if err != nil || len(before) != 2 {
		t.Fatalf("events: %v, %v", before, err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	table := pgx.Identifier{schema, "audit_events"}.Sanitize()
	for _, q := range []string{
		"UPDATE " + table + " SET code = 0, method = 'forged'",
		"DELETE FROM " + table,
		"DELETE FROM " + table + " WHERE event_id = 1",
		"TRUNCATE " + table,
	} {
		_, err := conn.Exec(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only refusal", q, err)
		}
	}
	after, err := st.AuditEvents(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 2 || after[0].Method != "/m/Settle" || after[1].Method != "/m/PutPerson" {
		t.Fatalf("events changed: %+v", after)
	}
}

// TestAuditLogSurvivesReopening appends through one store, closes it and
// reads the events back through a new one on the same schema; new events
// continue the ids.
func TestAuditLogSurvivesReopening(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	ctx := context.Background()
	first, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 8, 30, 0, 1000, time.UTC)
	e := store.AuditEvent{Time: at, Role: "institution", CallerInstitution: "H", Method: "/m/Settle", RequestID: "r1",
		PersonID: "P", InstitutionID: "H", Code: 0, ResultIDs: []string{"ST1"}}
	id, err := first.AppendAudit(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	second, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	got, err := second.AuditEvents(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	e.ID = id
	if len(got) != 1 || got[0].ID != id || !got[0].Time.Equal(at) || got[0].RequestID != "r1" || got[0].ResultIDs[0] != "ST1" {
		t.Fatalf("after reopening: %+v, want %+v", got, e)
	}
	next, err := second.AppendAudit(ctx, e)
	if err != nil || next <= id {
		t.Fatalf("next id %d after %d: %v", next, id, err)
	}
}
