package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// AdjustAccount credits or debits a person's account balance in one
// transaction that holds the person's row lock (SELECT … FOR UPDATE, as a
// settlement takes it), and records the adjustment in account_adjustments,
// keyed by request id alone. A retry returns the recorded adjustment.
func (s *Store) AdjustAccount(ctx context.Context, a store.Adjustment) (store.Adjustment, error) {
	schema := pgx.Identifier{s.schema}.Sanitize()
	var out store.Adjustment
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		p, err := s.scanPerson(ctx, tx, s.q.lockPerson, a.PersonID)
		if err != nil {
			return fmt.Errorf("person %q: %w", a.PersonID, err)
		}
		first, err := readAdjustment(ctx, tx, schema, a.RequestID)
		switch {
		case err == nil:
			if !first.SameRequest(a) {
				return fmt.Errorf("account adjustment %q: %w", a.RequestID, store.ErrConflict)
			}
			out = first
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		balance := p.AccountBalance.Add(a.Delta())
		if balance.IsNegative() {
			return fmt.Errorf("person %q: debit %s, balance %s: %w",
				a.PersonID, a.Debit, p.AccountBalance, store.ErrInsufficientBalance)
		}
		if _, err := tx.Exec(ctx, s.q.setBalance, a.PersonID, a.Delta()); err != nil {
			return translate(err)
		}
		p.AccountBalance = balance
		a.At = s.now().UTC().Truncate(time.Microsecond)
		a.Person = p
		doc, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("encode person %q: %w", p.ID, err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO `+schema+`.account_adjustments
			(request_id, person_id, credit, debit, reason, adjusted_by, adjusted_at, person)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			a.RequestID, a.PersonID, a.Credit, a.Debit, a.Reason, a.By, a.At, doc)
		if err != nil {
			return fmt.Errorf("account adjustment %q: %w", a.RequestID, translate(err))
		}
		out = a
		return nil
	})
	if err != nil {
		return store.Adjustment{}, err
	}
	return out, nil
}

// readAdjustment reads a recorded adjustment; store.ErrNotFound if none.
func readAdjustment(ctx context.Context, q rowQuerier, schema, requestID string) (store.Adjustment, error) {
	var a store.Adjustment
	var doc []byte
	err := q.QueryRow(ctx, `SELECT request_id, person_id, credit, debit, reason, adjusted_by, adjusted_at, person
		FROM `+schema+`.account_adjustments WHERE request_id = $1`, requestID).
		Scan(&a.RequestID, &a.PersonID, &a.Credit, &a.Debit, &a.Reason, &a.By, &a.At, &doc)
	if err != nil {
		return store.Adjustment{}, translate(err)
	}
	a.At = a.At.UTC()
	var p engine.Person
	if err := json.Unmarshal(doc, &p); err != nil {
		return store.Adjustment{}, fmt.Errorf("decode account adjustment %q: %w", requestID, err)
	}
	a.Person = p
	return a, nil
}
