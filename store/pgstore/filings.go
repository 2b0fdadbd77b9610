package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
)

// The SQL of cross-region filings, written with {s} for the schema.
const (
	// listFilingsSQL reads a person's filings in list order.
	listFilingsSQL = `SELECT filing_id, person_id, region, valid_from, valid_to FROM {s}.cross_region_filings
		WHERE person_id = $1 ORDER BY valid_from, filing_id COLLATE "C"`
	// filingSlotSQL reads, for PutFiling, whether the filing id is the
	// person's already and how many filings the person has.
	filingSlotSQL = `SELECT coalesce(bool_or(filing_id = $2), false), count(*) FROM {s}.cross_region_filings WHERE person_id = $1`
	putFilingSQL  = `INSERT INTO {s}.cross_region_filings (filing_id, person_id, region, valid_from, valid_to, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (filing_id) DO UPDATE SET person_id = $2, region = $3, valid_from = $4, valid_to = $5, updated_at = $6`
)

// PutFiling creates or replaces a cross-region filing in one transaction
// holding the person's row lock; see store.Store.
func (s *Store) PutFiling(ctx context.Context, f engine.Filing) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		person, err := s.scanPerson(ctx, tx, s.q.lockPerson, f.PersonID)
		if err != nil {
			return fmt.Errorf("person %q: %w", f.PersonID, err)
		}
		if err := engine.ValidateFiling(f, person); err != nil {
			return err
		}
		var mine bool
		var n int
		if err := tx.QueryRow(ctx, s.sql(filingSlotSQL), f.PersonID, f.ID).Scan(&mine, &n); err != nil {
			return translate(err)
		}
		if err := engine.CheckFilingCount(f.PersonID, n, mine); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, s.sql(putFilingSQL), f.ID, f.PersonID, f.Region, f.ValidFrom.String(), f.ValidTo.String(), s.now())
		return translate(err)
	})
}

// Filings lists a person's filings by valid_from, then id; see store.Store.
// The person and the filings are read in one pipelined batch (one
// implicit transaction).
func (s *Store) Filings(ctx context.Context, personID string) ([]engine.Filing, error) {
	b := &pgx.Batch{}
	b.Queue(s.q.getPerson, personID)
	b.Queue(s.sql(listFilingsSQL), personID)
	br := s.pool.SendBatch(ctx, b)
	out, err := func() ([]engine.Filing, error) {
		if _, err := scanPersonRow(br.QueryRow()); err != nil {
			return nil, fmt.Errorf("person %q: %w", personID, translate(err))
		}
		return readFilings(br)
	}()
	if cerr := br.Close(); err == nil && cerr != nil {
		err = translate(cerr)
	}
	return out, err
}

// readFilings reads the next result of a batch, a listFilingsSQL query.
func readFilings(br pgx.BatchResults) ([]engine.Filing, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, translate(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.Filing, error) {
		var f engine.Filing
		var from, to time.Time
		err := r.Scan(&f.ID, &f.PersonID, &f.Region, &from, &to)
		f.ValidFrom, f.ValidTo = dateOf(from), dateOf(to)
		return f, err
	})
	if err != nil {
		return nil, translate(err)
	}
	return out, nil
}
