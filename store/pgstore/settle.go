package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// Snapshot reads what a settlement would read, changing nothing.
func (s *Store) Snapshot(ctx context.Context, personID, institutionID string, year int) (store.PersonYear, error) {
	var out store.PersonYear
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = s.readPersonYear(ctx, tx, s.q.getPerson, personID, institutionID, year)
		return err
	})
	return out, err
}

// readPersonYear reads the person (with personSQL: plain or FOR UPDATE),
// the person's accumulators for the year and the institution's usage.
func (s *Store) readPersonYear(ctx context.Context, tx pgx.Tx, personSQL, personID, institutionID string, year int) (store.PersonYear, error) {
	p, err := s.scanPerson(ctx, tx, personSQL, personID)
	if err != nil {
		return store.PersonYear{}, fmt.Errorf("person %q: %w", personID, err)
	}
	acc, err := s.readYear(ctx, tx, personID, year)
	if err != nil {
		return store.PersonYear{}, err
	}
	var used decimal.Decimal
	if err := tx.QueryRow(ctx, s.q.budgetUsed, institutionID, year).Scan(&used); err != nil {
		return store.PersonYear{}, translate(err)
	}
	return store.PersonYear{Person: p, Accumulators: acc, BudgetUsed: used}, nil
}

func (s *Store) readYear(ctx context.Context, tx pgx.Tx, personID string, year int) (engine.Accumulators, error) {
	var doc []byte
	err := tx.QueryRow(ctx, s.q.getYear, personID, year).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return engine.NewAccumulators(personID, year), nil
	}
	if err != nil {
		return engine.Accumulators{}, translate(err)
	}
	var acc engine.Accumulators
	if err := json.Unmarshal(doc, &acc); err != nil {
		return engine.Accumulators{}, fmt.Errorf("decode accumulators of %q/%d: %w", personID, year, err)
	}
	return acc, nil
}

// replay answers a request whose key is recorded: the recorded settlement
// for the same request, store.ErrConflict for another one. found is false
// when the key is free.
func (s *Store) replay(ctx context.Context, q rowQuerier, institution, requestID, fingerprint string) (st engine.Settlement, found bool, err error) {
	var fp, id string
	err = q.QueryRow(ctx, s.q.getKey, institution, requestID).Scan(&fp, &id)
	if errors.Is(err, pgx.ErrNoRows) {
		return engine.Settlement{}, false, nil
	}
	if err != nil {
		return engine.Settlement{}, true, translate(err)
	}
	if fp != fingerprint {
		return engine.Settlement{}, true, fmt.Errorf("request id %q of institution %q: %w", requestID, institution, store.ErrConflict)
	}
	st, err = s.getSettlement(ctx, q, id)
	return st, true, err
}

// Settle records a settlement in one transaction; see store.Store.
func (s *Store) Settle(ctx context.Context, claim engine.Claim, compute store.ComputeFunc) (engine.Settlement, error) {
	fp := claim.Fingerprint()
	if st, found, err := s.replay(ctx, s.pool, claim.InstitutionID, claim.RequestID, fp); found {
		return st, err
	}
	var out engine.Settlement
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		state, err := s.readPersonYear(ctx, tx, s.q.lockPerson, claim.PersonID, claim.InstitutionID, claim.Year())
		if err != nil {
			return err
		}
		// Holding the person's lock: a duplicate of this request for the
		// same person has committed or will wait for us.
		if st, found, err := s.replay(ctx, tx, claim.InstitutionID, claim.RequestID, fp); found {
			out = st
			return errReplayed{err}
		}
		res, err := compute(state)
		if err != nil {
			return err
		}
		out, err = s.commitSettlement(ctx, tx, claim, fp, state, res)
		return err
	})
	var replayed errReplayed
	switch {
	case errors.As(err, &replayed):
		return out, replayed.err
	case errors.Is(err, store.ErrConflict):
		// The key was taken by a request for another person that committed
		// while we computed: the recorded one decides.
		if st, found, rerr := s.replay(ctx, s.pool, claim.InstitutionID, claim.RequestID, fp); found {
			return st, rerr
		}
		return engine.Settlement{}, err
	case err != nil:
		return engine.Settlement{}, err
	}
	return out, nil
}

// errReplayed carries a replay out of the transaction (which then rolls back).
type errReplayed struct{ err error }

func (e errReplayed) Error() string { return "replayed" }

func (s *Store) commitSettlement(ctx context.Context, tx pgx.Tx, claim engine.Claim, fp string, state store.PersonYear, res engine.Result) (engine.Settlement, error) {
	year := claim.Year()
	b := res.Breakdown
	if err := s.writeYear(ctx, tx, claim.PersonID, year, state.Accumulators.Apply(res.Delta, +1)); err != nil {
		return engine.Settlement{}, err
	}
	if !b.Account.IsZero() {
		if _, err := tx.Exec(ctx, s.q.setBalance, claim.PersonID, b.Account.Neg()); err != nil {
			return engine.Settlement{}, translate(err)
		}
	}
	if _, err := tx.Exec(ctx, s.q.addBudget, claim.InstitutionID, year, shardOf(claim.PersonID), b.BasicFund); err != nil {
		return engine.Settlement{}, translate(err)
	}
	if res.BudgetLimit != nil {
		// The usage with this settlement and every one committed so far.
		var used decimal.Decimal
		if err := tx.QueryRow(ctx, s.q.budgetUsed, claim.InstitutionID, year).Scan(&used); err != nil {
			return engine.Settlement{}, translate(err)
		}
		st := engine.NewBudgetStatus(year, *res.BudgetLimit, used, res.WarnRatio)
		res.Budget = &st
	}
	claimDoc, err := json.Marshal(claim)
	if err != nil {
		return engine.Settlement{}, err
	}
	resultDoc, err := json.Marshal(res)
	if err != nil {
		return engine.Settlement{}, err
	}
	var id string
	err = tx.QueryRow(ctx, s.q.insertSettlement, claim.InstitutionID, claim.RequestID, claim.PersonID, int16(claim.VisitType),
		claim.SettleDate.String(), year, int16(engine.StateSettled), fp, claimDoc, resultDoc,
		b.Total, b.BasicFund, b.FundTotal, b.Account, s.now()).Scan(&id)
	if err != nil {
		return engine.Settlement{}, translate(err)
	}
	if _, err := tx.Exec(ctx, s.q.putKey, claim.InstitutionID, claim.RequestID, fp, id); err != nil {
		return engine.Settlement{}, translate(err)
	}
	return engine.Settlement{ID: id, Claim: claim, Fingerprint: fp, State: engine.StateSettled, Result: res}, nil
}

func (s *Store) writeYear(ctx context.Context, tx pgx.Tx, personID string, year int, acc engine.Accumulators) error {
	doc, err := json.Marshal(acc)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, s.q.putYear, personID, year, doc)
	return translate(err)
}

// shardOf spreads one institution's budget usage over budgetShards rows by person.
func shardOf(personID string) int16 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(personID))
	return int16(h.Sum32() % budgetShards)
}

// Reverse undoes a settlement in one transaction; see store.Store.
func (s *Store) Reverse(ctx context.Context, r store.Reversal) (engine.Settlement, error) {
	rec, err := s.GetSettlement(ctx, r.SettlementID)
	if err != nil {
		return engine.Settlement{}, err
	}
	if r.Institution != "" && r.Institution != rec.Claim.InstitutionID {
		return engine.Settlement{}, fmt.Errorf("settlement %q belongs to institution %q: %w", rec.ID, rec.Claim.InstitutionID, engine.ErrForbidden)
	}
	fp := store.ReversalFingerprint(r)
	c := rec.Claim
	var out engine.Settlement
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		state, err := s.readPersonYear(ctx, tx, s.q.lockPerson, c.PersonID, c.InstitutionID, c.Year())
		if err != nil {
			return err
		}
		if st, found, err := s.replay(ctx, tx, c.InstitutionID, r.RequestID, fp); found {
			out = st
			return errReplayed{err}
		}
		cur, err := s.getSettlement(ctx, tx, r.SettlementID)
		if err != nil {
			return err
		}
		if cur.State == engine.StateReversed {
			return fmt.Errorf("settlement %q was reversed by request %q: %w", cur.ID, cur.ReversalRequestID, engine.ErrAlreadyReversed)
		}
		b := cur.Result.Breakdown
		if err := s.writeYear(ctx, tx, c.PersonID, c.Year(), state.Accumulators.Apply(cur.Result.Delta, -1)); err != nil {
			return err
		}
		if !b.Account.IsZero() {
			if _, err := tx.Exec(ctx, s.q.setBalance, c.PersonID, b.Account); err != nil {
				return translate(err)
			}
		}
		if _, err := tx.Exec(ctx, s.q.addBudget, c.InstitutionID, c.Year(), shardOf(c.PersonID), b.BasicFund.Neg()); err != nil {
			return translate(err)
		}
		if _, err := tx.Exec(ctx, s.q.reverseSettlement, cur.ID, int16(engine.StateReversed), r.RequestID, r.Reason, s.now()); err != nil {
			return translate(err)
		}
		if _, err := tx.Exec(ctx, s.q.putKey, c.InstitutionID, r.RequestID, fp, cur.ID); err != nil {
			return translate(err)
		}
		cur.State, cur.ReversalRequestID, cur.ReversalReason = engine.StateReversed, r.RequestID, r.Reason
		out = cur
		return nil
	})
	var replayed errReplayed
	switch {
	case errors.As(err, &replayed):
		return out, replayed.err
	case err != nil:
		return engine.Settlement{}, err
	}
	return out, nil
}

// GetSettlement reads a settlement. Returns store.ErrNotFound if there is none.
func (s *Store) GetSettlement(ctx context.Context, id string) (engine.Settlement, error) {
	return s.getSettlement(ctx, s.pool, id)
}

func (s *Store) getSettlement(ctx context.Context, q rowQuerier, id string) (engine.Settlement, error) {
	var st engine.Settlement
	var state int16
	var claimDoc, resultDoc []byte
	err := q.QueryRow(ctx, s.q.getSettlement, id).Scan(&st.ID, &state, &st.Fingerprint, &claimDoc, &resultDoc,
		&st.ReversalRequestID, &st.ReversalReason)
	if err != nil {
		return engine.Settlement{}, fmt.Errorf("settlement %q: %w", id, translate(err))
	}
	st.State = engine.SettlementState(state)
	if err := json.Unmarshal(claimDoc, &st.Claim); err != nil {
		return engine.Settlement{}, fmt.Errorf("decode settlement %q: %w", id, err)
	}
	if err := json.Unmarshal(resultDoc, &st.Result); err != nil {
		return engine.Settlement{}, fmt.Errorf("decode settlement %q: %w", id, err)
	}
	return st, nil
}
