package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// snapshotTx is how Snapshot reads: one read-only REPEATABLE READ
// transaction, so that the person, the accumulators, the budget usage and
// the filings are read under one snapshot (under READ COMMITTED each
// statement of a batch would see the commits made before it began).
var snapshotTx = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// Snapshot reads what a settlement would read, changing nothing, under one
// snapshot (snapshotTx), in one round trip: one pipelined batch that
// begins the transaction, reads, and commits (pipelined_tx.go).
func (s *Store) Snapshot(ctx context.Context, personID, institutionID string, year int) (store.PersonYear, error) {
	var st store.PersonYear
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return st, translate(err)
	}
	defer endTx(ctx, conn)
	b := &pgx.Batch{}
	b.BeginTx(snapshotTx)
	b.Queue(s.q.getPerson, personID)
	b.Queue(s.q.getYear, personID, year)
	b.Queue(s.q.budgetUsed, institutionID, year)
	b.Queue(s.sql(listFilingsSQL), personID)
	queueCommit(b)
	br := conn.SendBatch(ctx, b)
	if _, err = br.Exec(); err != nil {
		err = translate(err)
	} else {
		st, _, err = s.readBatch(br, personID, year, false)
	}
	// Close runs the COMMIT (its check is queueCommit's); a read that
	// failed left the transaction for endTx to roll back.
	if cerr := br.Close(); err == nil && cerr != nil {
		err = translate(cerr)
	}
	return st, err
}

// corrupt logs loudly a stored document that cannot be read or breaks an
// invariant, and returns err (which wraps engine.ErrInvariant): an internal
// error, never a silent wrong answer.
func (s *Store) corrupt(what string, err error) error {
	s.log.Error("stored state is corrupt: refusing to use it", "what", what, "err", err)
	return fmt.Errorf("%s: %w", what, err)
}

// replay looks a request key up and answers it with replayKey; found is
// false when the key is free.
func (s *Store) replay(ctx context.Context, q rowQuerier, institution, requestID string, same func(string) bool) (st engine.Settlement, found bool, err error) {
	var key recordedKey
	err = q.QueryRow(ctx, s.q.getKey, institution, requestID).Scan(&key.fingerprint, &key.settlementID)
	if errors.Is(err, pgx.ErrNoRows) {
		return engine.Settlement{}, false, nil
	}
	if err != nil {
		return engine.Settlement{}, true, translate(err)
	}
	st, err = s.replayKey(ctx, q, institution, requestID, same, key)
	return st, true, err
}

// Settle records a settlement; see store.Store. With group commit on (the
// default) it shares a transaction with the settlements arriving with it
// (settle_group.go); otherwise, and when a group fails as a whole, it is
// settled by itself (settleOne).
func (s *Store) Settle(ctx context.Context, claim engine.Claim, compute store.ComputeFunc) (engine.Settlement, error) {
	if s.settles == nil {
		return s.settleOne(ctx, claim, compute)
	}
	return s.settleGrouped(ctx, claim, compute, nil)
}

// settleOne records a settlement in a transaction of its own. The
// transaction takes five round trips: BEGIN; the person's lock with every
// read; the accumulator, balance and budget writes with the usage after
// them; the settlement with its idempotency key; COMMIT.
func (s *Store) settleOne(ctx context.Context, claim engine.Claim, compute store.ComputeFunc) (engine.Settlement, error) {
	return s.settleOneMarked(ctx, claim, compute, nil)
}

// settleOneMarked is settleOne, and SettleVisit's settlement by itself
// when mark is not nil: after the person's lock and the request key, the
// visit's row is locked (a round trip more: persons before visits, as a
// group locks them) and checked before compute runs, and settled with
// the settlement's insert.
func (s *Store) settleOneMarked(ctx context.Context, claim engine.Claim, compute store.ComputeFunc, mark *store.VisitMark) (engine.Settlement, error) {
	same := claim.SameRequest
	var out engine.Settlement
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		state, key, err := s.lockAndRead(ctx, tx, claim.PersonID, claim.InstitutionID, claim.Year(), claim.RequestID)
		if err != nil {
			return err
		}
		// Holding the person's lock: a duplicate of this request for the
		// same person has committed or will wait for us.
		if key.found {
			out, err = s.replayKey(ctx, tx, claim.InstitutionID, claim.RequestID, same, key)
			return errReplayed{err}
		}
		var visit store.Visit
		if mark != nil {
			if visit, err = s.lockMarkedVisit(ctx, tx, *mark); err != nil {
				return err
			}
		}
		res, err := compute(state)
		if err != nil {
			return err
		}
		// Recorded as settled: with the cross_region decided.
		settled := claim.Decided(res.CrossRegion)
		at := s.now().UTC().Truncate(time.Microsecond)
		out, err = s.commitSettlement(ctx, tx, settled, settled.Fingerprint(), state, res, at)
		if err != nil || mark == nil {
			return err
		}
		if visit, err = visit.SettledByMark(*mark, out.ID, at); err != nil {
			return err
		}
		var m visitMarks
		m.add(visit)
		b := &pgx.Batch{}
		m.queue(s, b)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("visit %q: %w", mark.VisitID, translate(err))
		}
		return nil
	})
	var replayed errReplayed
	switch {
	case errors.As(err, &replayed):
		return out, replayed.err
	case errors.Is(err, store.ErrConflict):
		// The key was taken by a request for another person that committed
		// while we computed: the recorded one decides.
		if st, found, rerr := s.replay(ctx, s.pool, claim.InstitutionID, claim.RequestID, same); found {
			return st, rerr
		}
		return engine.Settlement{}, err
	case err != nil:
		return engine.Settlement{}, err
	}
	return out, nil
}

// recordedKey is an idempotency key found in request_keys.
type recordedKey struct {
	found        bool
	fingerprint  string
	settlementID string
}

// lockAndRead takes the person's row lock and, in the same round trip,
// reads the request key, the person's accumulators for the year, the
// institution's usage and the person's filings. The key is read after the
// lock is granted, so a duplicate that committed while we waited is seen,
// and so are the filings PutFiling wrote under the lock.
func (s *Store) lockAndRead(ctx context.Context, tx pgx.Tx, personID, institutionID string, year int, requestID string) (store.PersonYear, recordedKey, error) {
	b := &pgx.Batch{}
	b.Queue(s.q.lockPerson, personID)
	b.Queue(s.q.getKey, institutionID, requestID)
	b.Queue(s.q.getYear, personID, year)
	b.Queue(s.q.budgetUsed, institutionID, year)
	b.Queue(s.sql(listFilingsSQL), personID)
	br := tx.SendBatch(ctx, b)
	state, key, err := s.readBatch(br, personID, year, true)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = translate(cerr)
	}
	return state, key, err
}

// readBatch reads the results of lockAndRead or Snapshot: the person, the
// request key when withKey, the accumulators, the usage and the filings.
func (s *Store) readBatch(br pgx.BatchResults, personID string, year int, withKey bool) (store.PersonYear, recordedKey, error) {
	var st store.PersonYear
	var key recordedKey
	p, err := scanPersonRow(br.QueryRow())
	if err != nil {
		return st, key, fmt.Errorf("person %q: %w", personID, translate(err))
	}
	st.Person = p
	if withKey {
		switch err := br.QueryRow().Scan(&key.fingerprint, &key.settlementID); {
		case err == nil:
			key.found = true
		case !errors.Is(err, pgx.ErrNoRows):
			return st, key, translate(err)
		}
	}
	var doc []byte
	switch err := br.QueryRow().Scan(&doc); {
	case errors.Is(err, pgx.ErrNoRows):
		st.Accumulators = engine.NewAccumulators(personID, year)
	case err != nil:
		return st, key, translate(err)
	default:
		acc, err := s.accs.decode(personID, year, doc)
		if err != nil {
			return st, key, s.corrupt(fmt.Sprintf("accumulators of %q/%d", personID, year), err)
		}
		st.Accumulators = acc
	}
	if err := br.QueryRow().Scan(&st.BudgetUsed); err != nil {
		return st, key, translate(err)
	}
	filings, err := readFilings(br)
	if err != nil {
		return st, key, err
	}
	st.Filings = filings
	return st, key, nil
}

// replayKey answers a request whose key is recorded: the recorded
// settlement for the same request (same reports whether a recorded
// fingerprint is this request's), store.ErrConflict for another one.
func (s *Store) replayKey(ctx context.Context, q rowQuerier, institution, requestID string, same func(string) bool, key recordedKey) (engine.Settlement, error) {
	if !same(key.fingerprint) {
		return engine.Settlement{}, fmt.Errorf("request id %q of institution %q: %w", requestID, institution, store.ErrConflict)
	}
	return s.getSettlement(ctx, q, key.settlementID)
}

// errReplayed carries a replay out of the transaction (which then rolls back).
type errReplayed struct{ err error }

func (e errReplayed) Error() string { return "replayed" }

// lockMarkedVisit locks the visit mark names and checks that it may be
// settled for mark (store.Visit.SettledByMark's refusals).
func (s *Store) lockMarkedVisit(ctx context.Context, tx pgx.Tx, mark store.VisitMark) (store.Visit, error) {
	if !store.Storable(mark.VisitID) {
		return store.Visit{}, noVisit(mark.VisitID)
	}
	var rows int
	v, err := scanVisit(tx.QueryRow(ctx, s.sql(lockVisitSQL), mark.VisitID), &rows)
	if err != nil {
		return store.Visit{}, fmt.Errorf("visit %q: %w", mark.VisitID, translate(err))
	}
	if _, err := v.SettledByMark(mark, "", time.Time{}); err != nil {
		return store.Visit{}, err
	}
	return v, nil
}

// commitSettlement writes a settlement computed under the person's lock,
// recorded as settled at at.
func (s *Store) commitSettlement(ctx context.Context, tx pgx.Tx, claim engine.Claim, fp string, state store.PersonYear, res engine.Result, at time.Time) (engine.Settlement, error) {
	year := claim.Year()
	b := res.Breakdown
	batch := &pgx.Batch{}
	if err := s.queueChanges(batch, state.Accumulators, engine.SettleChanges(claim, res)); err != nil {
		return engine.Settlement{}, err
	}
	var used engine.Money
	if res.BudgetLimit != nil {
		// The usage with this settlement and every one committed so far.
		batch.Queue(s.q.budgetUsed, claim.InstitutionID, year).QueryRow(func(row pgx.Row) error { return row.Scan(&used) })
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return engine.Settlement{}, translate(err)
	}
	if res.BudgetLimit != nil {
		st := engine.NewBudgetStatus(year, *res.BudgetLimit, used, res.WarnRatio)
		res.Budget = &st
	}
	claimDoc, err := encodeClaim(claim)
	if err != nil {
		return engine.Settlement{}, err
	}
	resultDoc, err := encodeResult(res)
	if err != nil {
		return engine.Settlement{}, err
	}
	region, scheme := policyOf(res, state.Person)
	cols, err := settlementCodes(claim.VisitType, engine.StateSettled, scheme)
	if err != nil {
		return engine.Settlement{}, err
	}
	var id string
	err = tx.QueryRow(ctx, s.q.insertSettlement, claim.InstitutionID, claim.RequestID, claim.PersonID, cols.visitType,
		claim.SettleDate.String(), year, cols.state, fp, claimDoc, resultDoc,
		b.Total, b.BasicFund, b.FundTotal, b.Account, at,
		region, cols.scheme, claim.DRGCode, b.PersonalTotal, store.NewSettlementID()).Scan(&id)
	if err != nil {
		return engine.Settlement{}, translate(err)
	}
	return engine.Settlement{ID: id, Claim: claim, Fingerprint: fp, State: engine.StateSettled, Result: res}, nil
}

// policyOf is the policy region and scheme a settlement used: its result's,
// else (a compute that did not say) the person's then.
func policyOf(res engine.Result, p engine.Person) (string, engine.Scheme) {
	region, scheme := res.PolicyRegion, res.PolicyScheme
	if region == "" {
		region = p.Region
	}
	if scheme == engine.SchemeUnspecified {
		scheme = p.Scheme
	}
	return region, scheme
}

// queueChanges queues the writes that apply the engine's plan of changes
// (engine.SettleChanges, engine.ReverseChanges) to accumulators acc, read
// under the person's lock: the new accumulators, the account balance and
// the budget usage.
func (s *Store) queueChanges(batch *pgx.Batch, acc engine.Accumulators, ch engine.Changes) error {
	accDoc, err := s.accs.encode(ch.ApplyAccumulators(acc))
	if err != nil {
		return err
	}
	batch.Queue(s.q.putYear, ch.PersonID, ch.Year, accDoc)
	if !ch.Account.IsZero() {
		batch.Queue(s.q.setBalance, ch.PersonID, ch.Account)
	}
	if !ch.Budget.IsZero() {
		batch.Queue(s.q.addBudget, ch.InstitutionID, ch.Year, ch.Budget)
	}
	return nil
}

// Reverse undoes a settlement in one transaction; see store.Store.
func (s *Store) Reverse(ctx context.Context, r store.Reversal) (engine.Settlement, error) {
	rec, err := s.GetSettlement(ctx, r.SettlementID)
	if err != nil {
		return engine.Settlement{}, err
	}
	if err := r.Allowed(rec); err != nil {
		return engine.Settlement{}, err
	}
	fp := store.ReversalFingerprint(r)
	c := rec.Claim
	var out engine.Settlement
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		state, key, err := s.lockAndRead(ctx, tx, c.PersonID, c.InstitutionID, c.Year(), r.RequestID)
		if err != nil {
			return err
		}
		if key.found {
			out, err = s.replayKey(ctx, tx, c.InstitutionID, r.RequestID, func(recorded string) bool { return recorded == fp }, key)
			return errReplayed{err}
		}
		cur, err := s.getSettlement(ctx, tx, r.SettlementID)
		if err != nil {
			return err
		}
		if cur.State == engine.StateReversed {
			return fmt.Errorf("settlement %q was reversed by request %q: %w", cur.ID, cur.ReversalRequestID, engine.ErrAlreadyReversed)
		}
		ch := engine.ReverseChanges(cur)
		batch := &pgx.Batch{}
		if err := s.queueChanges(batch, state.Accumulators, ch); err != nil {
			return err
		}
		cols, err := settlementCodes(c.VisitType, ch.State, engine.SchemeUnspecified)
		if err != nil {
			return err
		}
		// The balance right after the reversal: the balance read under the
		// person's lock (lockAndRead) plus what the reversal gives back,
		// kept with the settlement so that every reading and every retry
		// answers it, whatever the account does later.
		after := ch.ApplyAccount(state.Person.AccountBalance)
		batch.Queue(s.q.reverseSettlement, cur.ID, cols.state, r.RequestID, r.Reason, s.now(), after)
		batch.Queue(s.q.putKey, c.InstitutionID, r.RequestID, fp, cur.ID)
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return translate(err)
		}
		cur.State, cur.ReversalRequestID, cur.ReversalReason = engine.StateReversed, r.RequestID, r.Reason
		cur.BalanceAfterReversal = &after
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
		&st.ReversalRequestID, &st.ReversalReason, &st.BalanceAfterReversal)
	if err != nil {
		return engine.Settlement{}, fmt.Errorf("settlement %q: %w", id, translate(err))
	}
	what := fmt.Sprintf("settlement %q", id)
	if st.State, err = settlementStateCodes.value(int(state)); err != nil {
		return engine.Settlement{}, s.corrupt(what, err)
	}
	if st.Claim, err = decodeClaim(claimDoc); err != nil {
		return engine.Settlement{}, s.corrupt(what, err)
	}
	if st.Result, err = decodeResult(resultDoc); err != nil {
		return engine.Settlement{}, s.corrupt(what, err)
	}
	return st, nil
}

// settlementColumns are the enum columns of a settlements row, as stored
// numbers.
type settlementColumns struct{ visitType, state, scheme int16 }

// settlementCodes maps the enum columns of a settlements row through the
// stored-number mappings.
func settlementCodes(v engine.VisitType, st engine.SettlementState, sc engine.Scheme) (settlementColumns, error) {
	vt, err1 := visitTypeCodes.code(v)
	s, err2 := settlementStateCodes.code(st)
	c, err3 := schemeCodes.code(sc)
	if err := errors.Join(err1, err2, err3); err != nil {
		return settlementColumns{}, fmt.Errorf("settlement columns: %w", err)
	}
	return settlementColumns{int16(vt), int16(s), int16(c)}, nil
}
