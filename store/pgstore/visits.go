package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

var _ store.VisitStore = (*Store)(nil)

var _ store.Clocked = (*Store)(nil)

// SetClock makes now the store's clock (Options.Now; time.Now when nil):
// the time settlements, reversals and visits record. See store.Clocked:
// set it before the store is used.
func (s *Store) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.now = now
}

// The SQL of visits, written with {s} for the schema. The transitions
// themselves are store.Visit's (shared with memstore): a call locks the
// visit's row, decides in Go, and writes what changed.
const (
	visitColumns = `visit_id, institution_id, person_id, kind, number, scheme, med_type, begin_time,
		state, settlement_id, generation, reversed_settlement_id, discharge, opened_at,
		details_version, settled_at, settle_msgid, settle_cert_type`
	// openVisitSQL inserts a new visit unless the institution has one of
	// that kind and number (then it returns no row).
	openVisitSQL = `INSERT INTO {s}.visits (visit_id, institution_id, person_id, kind, number, scheme, med_type, begin_time,
			state, opened_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
		ON CONFLICT (institution_id, kind, number) DO NOTHING
		RETURNING ` + visitColumns
	visitByNumberSQL = `SELECT ` + visitColumns + ` FROM {s}.visits WHERE institution_id = $1 AND kind = $2 AND number = $3`
	getVisitSQL      = `SELECT ` + visitColumns + ` FROM {s}.visits WHERE visit_id = $1`
	lockVisitSQL     = `SELECT ` + visitColumns + `, detail_rows FROM {s}.visits WHERE visit_id = $1 FOR UPDATE`
	updateVisitSQL   = `UPDATE {s}.visits SET state = $2, settlement_id = $3, generation = $4, reversed_settlement_id = $5,
		discharge = $6, updated_at = $7, settled_at = $8, settle_msgid = $9, settle_cert_type = $10 WHERE visit_id = $1`
	// lockMarkedVisitsSQL locks the visits a settlement group settles, in
	// visit id byte order, after the group's persons (settle_group.go):
	// every transaction that locks a visit and a person locks the person
	// first, and no transaction locks a visit and then a person.
	lockMarkedVisitsSQL = `SELECT ` + visitColumns + ` FROM {s}.visits WHERE visit_id = ANY($1::text[])
		ORDER BY visit_id COLLATE "C" FOR UPDATE`
	// markVisitsSQL settles the visits of a group's (or a lone
	// settlement's) SettleVisit calls, checked under their locks.
	markVisitsSQL = `UPDATE {s}.visits v SET state = $2, settlement_id = u.sid, settled_at = u.at, settle_msgid = u.msgid,
			settle_cert_type = u.cert, updated_at = greatest(v.updated_at, u.at)
		FROM unnest($1::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[]) AS u(id, sid, at, msgid, cert)
		WHERE v.visit_id = ANY($1::text[]) AND v.visit_id = u.id`
	// settleVisitSQL settles an OPEN visit by settlement $3 unless $3 is
	// the reversed settlement that reopened it (store.Visit.SettledBy's
	// change), returning it as lockVisitSQL reads it; no row otherwise.
	settleVisitSQL = `UPDATE {s}.visits SET state = $2, settlement_id = $3, updated_at = $4
		WHERE visit_id = $1 AND state = $5 AND reversed_settlement_id <> $3
		RETURNING ` + visitColumns + `, detail_rows`
)

// fkViolation is PostgreSQL's foreign_key_violation.
const fkViolation = "23503"

// OpenVisit stores a new OPEN visit, or returns the institution's visit of
// that kind and number; see store.VisitStore. One statement: the unique
// (institution_id, kind, number) decides between two opening at once.
func (s *Store) OpenVisit(ctx context.Context, v store.Visit) (store.Visit, error) {
	nv, err := store.NewVisit(v)
	var ve *engine.ValidationError
	if errors.As(err, &ve) && !ve.Has("institution_id") && !ve.Has("kind") && !ve.Has("number") {
		// A retry is answered whatever its other fields (a key that
		// cannot be stored names no visit).
		if old, gerr := s.visitByNumber(ctx, v); gerr == nil {
			return old, nil
		} else if !errors.Is(gerr, store.ErrNotFound) {
			return store.Visit{}, gerr
		}
	}
	if err != nil {
		return store.Visit{}, err
	}
	got, err := scanVisit(s.pool.QueryRow(ctx, s.sql(openVisitSQL), nv.ID, nv.InstitutionID, nv.PersonID, int16(nv.Kind), nv.Number,
		int16(nv.Scheme), nv.MedType, nv.Begin, int16(store.VisitOpen), s.now()))
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return got, nil
	case errors.As(err, &pgErr) && pgErr.Code == fkViolation:
		return store.Visit{}, fmt.Errorf("person %q: %w", nv.PersonID, store.ErrNotFound)
	case errors.Is(err, pgx.ErrNoRows):
		// The number is taken: a retry, or another call opening it at
		// the same moment (committed, or ON CONFLICT would have waited).
		return s.visitByNumber(ctx, nv)
	case errors.As(err, &pgErr) && pgErr.Code == "23505":
		return store.Visit{}, fmt.Errorf("visit id %q is another visit's: %w", nv.ID, store.ErrConflict)
	}
	return store.Visit{}, fmt.Errorf("open visit %s: %w", nv.Number, translate(err))
}

// visitByNumber reads the institution's visit of v's kind and number.
func (s *Store) visitByNumber(ctx context.Context, v store.Visit) (store.Visit, error) {
	got, err := scanVisit(s.pool.QueryRow(ctx, s.sql(visitByNumberSQL), v.InstitutionID, int16(v.Kind), v.Number))
	if err != nil {
		return store.Visit{}, fmt.Errorf("visit %q of %q: %w", v.Number, v.InstitutionID, translate(err))
	}
	return got, nil
}

// GetVisit reads a visit; see store.VisitStore.
func (s *Store) GetVisit(ctx context.Context, id string) (store.Visit, error) {
	if !store.Storable(id) {
		return store.Visit{}, noVisit(id)
	}
	v, err := scanVisit(s.pool.QueryRow(ctx, s.sql(getVisitSQL), id))
	if err != nil {
		return store.Visit{}, fmt.Errorf("visit %q: %w", id, translate(err))
	}
	return v, nil
}

// CancelVisit cancels an OPEN visit; see store.VisitStore.
func (s *Store) CancelVisit(ctx context.Context, id string) (store.Visit, error) {
	return s.moveVisit(ctx, id, func(v store.Visit) (store.Visit, bool, error) {
		v, err := v.Cancelled()
		return v, err == nil, err
	})
}

// MarkVisitSettled settles an OPEN visit; see store.VisitStore.
//
// The usual case, an OPEN visit that settlementID did not reopen, is one
// statement (settleVisitSQL: the transition SettledBy makes, under the
// row's lock); any other visit goes through SettledBy in a transaction.
func (s *Store) MarkVisitSettled(ctx context.Context, id, settlementID string) (store.Visit, error) {
	// SettledBy refuses a malformed settlement id before looking at the
	// visit: checked on an OPEN visit, that is its only refusal.
	if _, _, err := (store.Visit{State: store.VisitOpen}).SettledBy(settlementID); err != nil {
		return store.Visit{}, err
	}
	if store.Storable(id) {
		var rows int
		v, err := scanVisit(s.pool.QueryRow(ctx, s.sql(settleVisitSQL), id, int16(store.VisitSettled), settlementID, s.now(),
			int16(store.VisitOpen)), &rows)
		switch {
		case err == nil:
			return v, nil
		case !errors.Is(err, pgx.ErrNoRows):
			return store.Visit{}, fmt.Errorf("visit %q: %w", id, translate(err))
		}
	}
	return s.moveVisit(ctx, id, func(v store.Visit) (store.Visit, bool, error) { return v.SettledBy(settlementID) })
}

// ReopenVisit reopens a visit after its settlement's reversal; see
// store.VisitStore.
func (s *Store) ReopenVisit(ctx context.Context, id, settlementID string) (store.Visit, error) {
	return s.moveVisit(ctx, id, func(v store.Visit) (store.Visit, bool, error) { return v.ReopenedFrom(settlementID) })
}

// RecordDischarge stores a visit's discharge record; see store.VisitStore.
func (s *Store) RecordDischarge(ctx context.Context, id, record string) error {
	if err := store.CheckDischarge(record); err != nil {
		return err
	}
	_, err := s.moveVisit(ctx, id, func(v store.Visit) (store.Visit, bool, error) {
		v, err := v.Discharged(record)
		return v, err == nil, err
	})
	return err
}

// moveVisit applies a transition to a visit in one transaction holding
// the visit's row lock, and writes the result when the transition
// changes it.
func (s *Store) moveVisit(ctx context.Context, id string, move func(store.Visit) (store.Visit, bool, error)) (store.Visit, error) {
	if !store.Storable(id) {
		return store.Visit{}, noVisit(id)
	}
	var out store.Visit
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var rows int
		v, err := scanVisit(tx.QueryRow(ctx, s.sql(lockVisitSQL), id), &rows)
		if err != nil {
			return fmt.Errorf("visit %q: %w", id, translate(err))
		}
		nv, changed, err := move(v)
		if err != nil {
			return err
		}
		if changed {
			if _, err := tx.Exec(ctx, s.sql(updateVisitSQL), id, int16(nv.State), nv.SettlementID, nv.Generation,
				nv.ReversedSettlementID, nv.Discharge, s.now(), settledAtArg(nv.SettledAt), nv.SettleMsgid,
				nv.SettleCertType); err != nil {
				return fmt.Errorf("visit %q: %w", id, translate(err))
			}
		}
		out = nv
		return nil
	})
	return out, err
}

// noVisit is the ErrNotFound of an id that is not store.Storable, which
// PostgreSQL would refuse to compare.
func noVisit(id string) error {
	return fmt.Errorf("visit %q: %w", id, store.ErrNotFound)
}

// scanVisit reads a row of visitColumns, then extra columns into extra.
// Errors are pgx's, untranslated.
func scanVisit(row pgx.Row, extra ...any) (store.Visit, error) {
	var v store.Visit
	var kind, scheme, state int16
	var opened time.Time
	var settled *time.Time
	dest := append([]any{&v.ID, &v.InstitutionID, &v.PersonID, &kind, &v.Number, &scheme, &v.MedType, &v.Begin,
		&state, &v.SettlementID, &v.Generation, &v.ReversedSettlementID, &v.Discharge, &opened,
		&v.DetailsVersion, &settled, &v.SettleMsgid, &v.SettleCertType}, extra...)
	if err := row.Scan(dest...); err != nil {
		return store.Visit{}, err
	}
	v.Kind, v.Scheme, v.State = store.VisitKind(kind), engine.Scheme(scheme), store.VisitState(state)
	v.OpenedAt = opened.UTC()
	if settled != nil {
		v.SettledAt = settled.UTC()
	}
	return v, nil
}

// settledAtArg is the settled_at column of t: NULL for the zero time.
func settledAtArg(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// SettleVisit records a settlement and settles the visit mark names in
// the same transaction; see store.VisitStore. With group commit on it
// shares its group's transaction (settle_group.go: the visit is locked
// after the group's persons and checked in Go, so a refused mark leaves
// its claim out and nothing else); otherwise, and when a group fails as a
// whole, it is settled by itself (settleOne).
func (s *Store) SettleVisit(ctx context.Context, claim engine.Claim, compute store.ComputeFunc, mark store.VisitMark) (engine.Settlement, error) {
	if err := store.CheckVisitMark(mark); err != nil {
		return engine.Settlement{}, err
	}
	if s.settles == nil {
		return s.settleOneMarked(ctx, claim, compute, &mark)
	}
	return s.settleGrouped(ctx, claim, compute, &mark)
}

// visitMarks are the columns markVisitsSQL writes.
type visitMarks struct {
	ids, settlements, msgids, certs []string
	at                              []time.Time
}

// add appends the mark of visit v (as settled) to m.
func (m *visitMarks) add(v store.Visit) {
	m.ids, m.settlements = append(m.ids, v.ID), append(m.settlements, v.SettlementID)
	m.msgids, m.certs = append(m.msgids, v.SettleMsgid), append(m.certs, v.SettleCertType)
	m.at = append(m.at, v.SettledAt)
}

// queue queues markVisitsSQL for m's visits, if any.
func (m *visitMarks) queue(s *Store, b *pgx.Batch) {
	if len(m.ids) == 0 {
		return
	}
	b.Queue(s.sql(markVisitsSQL), m.ids, int16(store.VisitSettled), m.settlements, m.at, m.msgids, m.certs)
}
