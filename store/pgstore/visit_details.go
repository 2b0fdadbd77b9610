package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// The SQL of fee details, written with {s} for the schema.
const (
	detailColumns = `sn, batch, code, name, quantity, unit_price, amount, fee_time, med_type`
	// lockVisitDetailsSQL locks a visit as lockVisitSQL does, reading
	// also its count of live lines (live_rows, 0012_visit_live_rows.sql):
	// kept by every statement that adds or cancels lines, under this
	// lock, it is the count of its lines whose cancelled_at is NULL.
	lockVisitDetailsSQL = `SELECT ` + visitColumns + `, detail_rows, live_rows FROM {s}.visits WHERE visit_id = $1 FOR UPDATE`
	// liveBySNSQL reads a visit's live lines of the given SNs.
	liveBySNSQL = `SELECT ` + detailColumns + ` FROM {s}.fee_details
		WHERE visit_id = $1 AND cancelled_at IS NULL AND sn = ANY($2::text[])`
	// insertDetailsSQL adds lines in the order given, numbered from the
	// visit's detail_rows ($2). Figures arrive as their integer units
	// (bigint) and become NUMERIC by an exact multiplication: 12345 ×
	// 0.0001 is 1.2345, never rounded.
	insertDetailsSQL = `INSERT INTO {s}.fee_details (visit_id, seq, ` + detailColumns + `, uploaded_at)
		SELECT $1, $2 + u.ord, u.sn, u.batch, u.code, u.name, u.q * 0.0001, u.p * 0.000001, u.a * 0.01, u.fee_time, u.med_type, $3
		FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::int8[], $9::int8[], $10::int8[], $11::text[], $12::text[])
			WITH ORDINALITY AS u(sn, batch, code, name, q, p, a, fee_time, med_type, ord)
		ORDER BY u.ord`
	// addDetailRowsSQL counts lines added to a visit: its detail_rows
	// and live_rows, and one more change of its details
	// (details_version).
	addDetailRowsSQL = `UPDATE {s}.visits SET detail_rows = detail_rows + $2, live_rows = live_rows + $2,
		details_version = details_version + 1, updated_at = $3 WHERE visit_id = $1`
	// cancelledDetailsSQL counts a cancellation of $3 lines: a change of
	// a visit's details, and $3 live lines fewer.
	cancelledDetailsSQL = `UPDATE {s}.visits SET details_version = details_version + 1, live_rows = live_rows - $3,
		updated_at = $2 WHERE visit_id = $1`
	// cancelDetailsSQL cancels a visit's live lines of a batch and SN
	// ('' matching any).
	cancelDetailsSQL = `UPDATE {s}.fee_details SET cancelled_at = $4
		WHERE visit_id = $1 AND cancelled_at IS NULL AND ($2 = '' OR batch = $2) AND ($3 = '' OR sn = $3)`
	// listDetailsSQL lists a visit's live lines of a batch ('' = all) in
	// upload order.
	listDetailsSQL = `SELECT ` + detailColumns + ` FROM {s}.fee_details
		WHERE visit_id = $1 AND cancelled_at IS NULL AND ($2 = '' OR batch = $2) ORDER BY seq`
)

// PutFeeDetails adds lines to an OPEN visit, all or nothing; see
// store.VisitStore. The uploads arriving together share one transaction
// (details_group.go) unless group commit is off.
func (s *Store) PutFeeDetails(ctx context.Context, visitID string, lines []store.FeeDetail) error {
	if err := store.CheckFeeDetails(lines); err != nil {
		return err
	}
	if !store.Storable(visitID) {
		return noVisit(visitID)
	}
	if s.details.q != nil {
		return s.putDetailsGrouped(ctx, visitID, lines)
	}
	return s.putDetailsOne(ctx, visitID, lines)
}

// putDetailsOne is PutFeeDetails by itself, on lines CheckFeeDetails
// accepted for a store.Storable visit id. One transaction: the visit's
// row lock with its row and live counts, then (in the same round trip)
// the live lines of the SNs uploaded, read after the lock; then (another)
// the new lines in one INSERT and the visit's counts.
func (s *Store) putDetailsOne(ctx context.Context, visitID string, lines []store.FeeDetail) error {
	sns := make([]string, len(lines))
	for i, d := range lines {
		sns[i] = d.SN
	}
	return s.withTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(s.sql(lockVisitDetailsSQL), visitID)
		b.Queue(s.sql(liveBySNSQL), visitID, sns)
		br := tx.SendBatch(ctx, b)
		v, rows, live, matches, err := readDetailState(br)
		if cerr := br.Close(); err == nil && cerr != nil {
			err = translate(cerr)
		}
		if err != nil {
			return fmt.Errorf("visit %q: %w", visitID, err)
		}
		if err := v.CheckOpen(); err != nil {
			return err
		}
		fresh, err := store.NewFeeDetails(visitID, matches, lines)
		if err != nil {
			return err
		}
		if err := store.CheckDetailRoom(visitID, live, rows, len(fresh)); err != nil {
			return err
		}
		if len(fresh) == 0 {
			return nil
		}
		cols := detailArrays(fresh)
		now := s.now()
		b = &pgx.Batch{}
		b.Queue(s.sql(insertDetailsSQL), visitID, rows, now, cols.sn, cols.batch, cols.code, cols.name,
			cols.quantity, cols.price, cols.amount, cols.feeTime, cols.medType)
		b.Queue(s.sql(addDetailRowsSQL), visitID, len(fresh), now)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("visit %q: add fee details: %w", visitID, translate(err))
		}
		return nil
	})
}

// readDetailState reads PutFeeDetails' first batch: the locked visit and
// its row and live counts, its live lines of the SNs uploaded. Errors are
// translated.
func readDetailState(br pgx.BatchResults) (v store.Visit, rows, live int, matches map[string]store.FeeDetail, err error) {
	if v, err = scanVisit(br.QueryRow(), &rows, &live); err != nil {
		return v, 0, 0, nil, translate(err)
	}
	list, err := readDetails(br, v.ID)
	if err != nil {
		return v, 0, 0, nil, err
	}
	matches = make(map[string]store.FeeDetail, len(list))
	for _, d := range list {
		matches[d.SN] = d
	}
	return v, rows, live, matches, nil
}

// detailColumnArrays are lines column by column, figures as their units.
type detailColumnArrays struct {
	sn, batch, code, name, feeTime, medType []string
	quantity, price, amount                 []int64
}

func detailArrays(lines []store.FeeDetail) detailColumnArrays {
	n := len(lines)
	c := detailColumnArrays{
		sn: make([]string, n), batch: make([]string, n), code: make([]string, n), name: make([]string, n),
		feeTime: make([]string, n), medType: make([]string, n),
		quantity: make([]int64, n), price: make([]int64, n), amount: make([]int64, n),
	}
	for i, d := range lines {
		c.sn[i], c.batch[i], c.code[i], c.name[i], c.feeTime[i], c.medType[i] = d.SN, d.Batch, d.Code, d.Name, d.FeeTime, d.MedType
		c.quantity[i], c.price[i], c.amount[i] = d.Quantity.Scaled(), d.UnitPrice.Scaled(), d.Amount.Fen()
	}
	return c
}

// CancelFeeDetails cancels a visit's live lines of a batch and SN; see
// store.VisitStore. The lines are kept, marked cancelled; a call that
// cancels some adds one to the visit's details_version.
func (s *Store) CancelFeeDetails(ctx context.Context, visitID, batch, sn string) (int, error) {
	if !store.Storable(visitID) {
		return 0, noVisit(visitID)
	}
	var n int
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var rows int
		v, err := scanVisit(tx.QueryRow(ctx, s.sql(lockVisitSQL), visitID), &rows)
		if err != nil {
			return fmt.Errorf("visit %q: %w", visitID, translate(err))
		}
		if err := v.CheckOpen(); err != nil {
			return err
		}
		if !store.Storable(batch) || !store.Storable(sn) {
			return nil // names no line
		}
		now := s.now()
		tag, err := tx.Exec(ctx, s.sql(cancelDetailsSQL), visitID, batch, sn, now)
		if err != nil {
			return fmt.Errorf("visit %q: cancel fee details: %w", visitID, translate(err))
		}
		n = int(tag.RowsAffected())
		if n == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, s.sql(cancelledDetailsSQL), visitID, now, n); err != nil {
			return fmt.Errorf("visit %q: count the cancellation: %w", visitID, translate(err))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// FeeDetails lists a visit's live lines of a batch in upload order; see
// store.VisitStore. It is VisitDetails without the visit (one round trip).
func (s *Store) FeeDetails(ctx context.Context, visitID, batch string) ([]store.FeeDetail, error) {
	_, out, err := s.VisitDetails(ctx, visitID, batch)
	return out, err
}

// readDetails reads the next result of a batch, rows of detailColumns,
// as lines of visitID. Errors are translated.
func readDetails(br pgx.BatchResults, visitID string) ([]store.FeeDetail, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, translate(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.FeeDetail, error) {
		d := store.FeeDetail{VisitID: visitID}
		err := r.Scan(&d.SN, &d.Batch, &d.Code, &d.Name, &d.Quantity, &d.UnitPrice, &d.Amount, &d.FeeTime, &d.MedType)
		return d, err
	})
	if err != nil {
		return nil, translate(err)
	}
	return out, nil
}

// VisitDetails reads a visit and its live lines of a batch; see
// store.VisitStore. One round trip: the visit's row and then its lines,
// in one pipelined batch (each statement sees what committed before it
// ran, so the lines are read no earlier than the visit). A batch that is
// not store.Storable names no line.
func (s *Store) VisitDetails(ctx context.Context, id, batch string) (store.Visit, []store.FeeDetail, error) {
	v, details, _, _, err := s.visitDetails(ctx, id, batch, "", false)
	return v, details, err
}

// VisitDetailsPerson is VisitDetails and GetPerson(personID) in one round
// trip: the person is read by the batch's last statement, so no earlier
// than the visit and its lines, as a GetPerson after VisitDetails reads
// it. The visit's error is the call's (the person is then not read);
// the person's, GetPerson's own (ErrNotFound when there is none), is
// returned apart as personErr, with the visit and its lines.
func (s *Store) VisitDetailsPerson(ctx context.Context, id, batch, personID string) (v store.Visit, details []store.FeeDetail, p engine.Person, personErr, err error) {
	return s.visitDetails(ctx, id, batch, personID, true)
}

// visitDetails is VisitDetails, and VisitDetailsPerson when withPerson:
// one pipelined batch of the visit's row, its lines and the person.
func (s *Store) visitDetails(ctx context.Context, id, batch, personID string, withPerson bool) (v store.Visit, details []store.FeeDetail, p engine.Person, personErr, err error) {
	if !store.Storable(id) {
		return store.Visit{}, nil, engine.Person{}, nil, noVisit(id)
	}
	list := store.Storable(batch)
	b := &pgx.Batch{}
	b.Queue(s.sql(getVisitSQL), id)
	if list {
		b.Queue(s.sql(listDetailsSQL), id, batch)
	}
	if withPerson {
		b.Queue(s.q.getPerson, personID)
	}
	br := s.pool.SendBatch(ctx, b)
	v, details, err = func() (store.Visit, []store.FeeDetail, error) {
		v, err := scanVisit(br.QueryRow())
		if err != nil {
			return store.Visit{}, nil, translate(err)
		}
		if !list {
			return v, nil, nil
		}
		out, err := readDetails(br, id)
		return v, out, err
	}()
	if err == nil && withPerson {
		if p, personErr = scanPersonRow(br.QueryRow()); personErr != nil {
			p, personErr = engine.Person{}, fmt.Errorf("person %q: %w", personID, translate(personErr))
		}
	}
	if cerr := br.Close(); err == nil && personErr == nil && cerr != nil {
		err = translate(cerr)
	}
	if err != nil {
		return store.Visit{}, nil, engine.Person{}, nil, fmt.Errorf("visit %q: %w", id, err)
	}
	return v, details, p, personErr, nil
}
