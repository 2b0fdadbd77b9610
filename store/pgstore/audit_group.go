package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medsettle/medsettle/store"
)

// Audit events are group-committed as settlements are (every Settle call
// appends one after it): the events arriving together are one multi-row
// INSERT, one transaction, one WAL flush. Their ids follow their arrival
// order. A group whose INSERT fails is appended again event by event, so
// that no event fails its neighbours.

// groupAuditSQL appends a group's events in arrival order: the identity
// column numbers the rows as the ordered SELECT produces them.
const groupAuditSQL = `INSERT INTO {s}.audit_events (` + auditColumns + `)
	SELECT at, role, caller_institution, method, request_id, settlement_id, person_id, institution_id,
		region, scheme, version, run_id, contract_id, filing_id, message_count, code,
		result_ids::text[]
	FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::int8[], $16::int4[], $17::text[])
		WITH ORDINALITY AS u(at, role, caller_institution, method, request_id, settlement_id, person_id, institution_id,
			region, scheme, version, run_id, contract_id, filing_id, message_count, code, result_ids, ord)
	ORDER BY ord
	RETURNING event_id`

// auditCall is one AppendAudit call waiting for, or in, a group.
type auditCall struct {
	queuedCall
	ctx  context.Context
	e    store.AuditEvent
	done chan auditAnswer
}

// auditAnswer is a call's outcome in its group; alone means the group
// failed and the event is to be appended by itself.
type auditAnswer struct {
	id    int64
	err   error
	alone bool
}

// appendGrouped queues an event for the next group and waits for its id.
// As with settlements, a caller that gives up before a group takes its
// event leaves without effect; after, the group decides.
func (s *Store) appendGrouped(ctx context.Context, e store.AuditEvent) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("append audit event %s: %w", e.Method, err)
	}
	c := &auditCall{ctx: ctx, e: e, done: make(chan auditAnswer, 1)}
	s.audits.add(c)
	select {
	case a := <-c.done:
		if a.alone {
			return s.appendOne(ctx, e)
		}
		return a.id, a.err
	case <-ctx.Done():
		if !c.leave() {
			select {
			case a := <-c.done:
				if !a.alone {
					return a.id, a.err
				}
			default:
			}
		}
		return 0, fmt.Errorf("append audit event %s: %w", e.Method, ctx.Err())
	}
}

// appendGroup appends a group's events and answers each call.
func (s *Store) appendGroup(calls []*auditCall) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("audit group append panicked: appending its events one by one", "events", len(calls), "panic", r)
			for _, c := range calls {
				select {
				case c.done <- auditAnswer{alone: true}:
				default:
				}
			}
		}
	}()
	if len(calls) == 1 {
		// Alone: by itself, under its caller's context, the runner busy.
		c := calls[0]
		id, err := s.appendOne(c.ctx, c.e)
		c.done <- auditAnswer{id: id, err: err}
		return
	}
	ctx, cancel := groupContext(calls, func(c *auditCall) context.Context { return c.ctx })
	defer cancel()
	ids, err := s.appendTogether(ctx, calls)
	if err != nil {
		s.log.Warn("audit group append failed: appending its events one by one", "events", len(calls), "err", err)
	}
	for i, c := range calls {
		if err != nil {
			c.done <- auditAnswer{alone: true}
			continue
		}
		c.done <- auditAnswer{id: ids[i]}
	}
}

// appendTogether inserts the events in one statement and returns their
// ids, in the events' order.
func (s *Store) appendTogether(ctx context.Context, calls []*auditCall) ([]int64, error) {
	n := len(calls)
	at := make([]time.Time, n)
	text := make([][]string, 13)
	for i := range text {
		text[i] = make([]string, n)
	}
	counts, codes, results := make([]int64, n), make([]int32, n), make([]string, n)
	for i, c := range calls {
		e := c.e
		at[i] = e.Time.UTC().Truncate(time.Microsecond)
		for j, v := range []string{e.Role, e.CallerInstitution, e.Method, e.RequestID, e.SettlementID, e.PersonID, e.InstitutionID,
			e.Region, e.Scheme, e.Version, e.RunID, e.ContractID, e.FilingID} {
			text[j][i] = v
		}
		counts[i], codes[i], results[i] = e.MessageCount, e.Code, textArrayLiteral(e.ResultIDs)
	}
	args := []any{at}
	for _, col := range text {
		args = append(args, col)
	}
	args = append(args, counts, codes, results)
	rows, err := s.pool.Query(ctx, s.sql(groupAuditSQL), args...)
	if err != nil {
		return nil, translate(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(ids) != n {
		return nil, errors.New("audit group append: ids returned do not match the events")
	}
	// The identity column numbered the rows in arrival order.
	slices.Sort(ids)
	return ids, nil
}

// groupContext is the context of a group's transaction: cancelled by none
// of its callers (the group is theirs together, and a caller that leaves
// must not undo its neighbours), ending at the latest of their deadlines
// when each has one. It carries the first call's values (tracing).
func groupContext[T any](calls []T, ctxOf func(T) context.Context) (context.Context, context.CancelFunc) {
	base := context.WithoutCancel(ctxOf(calls[0]))
	var latest time.Time
	for _, c := range calls {
		d, ok := ctxOf(c).Deadline()
		if !ok {
			return context.WithCancel(base)
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(base, latest)
}

// textArrayLiteral is the PostgreSQL array literal of ids, every element
// quoted: a group's events carry their result ids as one literal each,
// cast to text[] row by row (a jsonb array unnested by a subquery per row
// cost more than the rest of the row).
func textArrayLiteral(ids []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for j := 0; j < len(id); j++ {
			if c := id[j]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(id[j])
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
