package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/store"
)

// auditColumns are the columns of an event after its id, in AuditEvent's
// order.
const auditColumns = `at, role, caller_institution, method, request_id, settlement_id, person_id, institution_id,
	region, scheme, version, run_id, contract_id, filing_id, message_count, code, result_ids`

// AppendAudit appends e to the audit log (migration 0006); the identity
// column gives the id. See store.AuditStore. With group commit on, events
// arriving together are appended in one statement (audit_group.go).
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	if s.audits == nil {
		return s.appendOne(ctx, e)
	}
	return s.appendGrouped(ctx, e)
}

// appendOne appends e by itself.
func (s *Store) appendOne(ctx context.Context, e store.AuditEvent) (int64, error) {
	ids := e.ResultIDs
	if ids == nil {
		ids = []string{}
	}
	var id int64
	err := s.pool.QueryRow(ctx, s.sql(`INSERT INTO {s}.audit_events (`+auditColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING event_id`),
		e.Time.UTC().Truncate(time.Microsecond), e.Role, e.CallerInstitution, e.Method, e.RequestID, e.SettlementID, e.PersonID, e.InstitutionID,
		e.Region, e.Scheme, e.Version, e.RunID, e.ContractID, e.FilingID, e.MessageCount, e.Code, ids).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("append audit event %s: %w", e.Method, translate(err))
	}
	return id, nil
}

// AuditEvents lists the events f selects, in id order. See
// store.AuditStore.
func (s *Store) AuditEvents(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	where := []string{"event_id > $1"}
	args := []any{f.After}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Method != "" {
		add("method = ?", f.Method)
	}
	if f.Institution != "" {
		add("(caller_institution = ? OR institution_id = ?)", f.Institution)
	}
	if f.PersonID != "" {
		add("person_id = ?", f.PersonID)
	}
	if f.RequestID != "" {
		add("request_id = ?", f.RequestID)
	}
	if !f.From.IsZero() {
		add("at >= ?", f.From.Truncate(time.Microsecond))
	}
	if !f.To.IsZero() {
		add("at < ?", f.To.Truncate(time.Microsecond))
	}
	if f.HasCode {
		add("code = ?", f.Code)
	}
	args = append(args, f.PageLimit())
	q := s.sql(`SELECT event_id, ` + auditColumns + ` FROM {s}.audit_events WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY event_id LIMIT $` + strconv.Itoa(len(args)))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEvent, error) {
		var e store.AuditEvent
		err := r.Scan(&e.ID, &e.Time, &e.Role, &e.CallerInstitution, &e.Method, &e.RequestID, &e.SettlementID, &e.PersonID,
			&e.InstitutionID, &e.Region, &e.Scheme, &e.Version, &e.RunID, &e.ContractID, &e.FilingID, &e.MessageCount,
			&e.Code, &e.ResultIDs)
		e.Time = e.Time.UTC()
		if len(e.ResultIDs) == 0 {
			e.ResultIDs = nil
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", translate(err))
	}
	return out, nil
}
