package memstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// Snapshot reads the state a settlement would read, changing nothing.
func (s *Store) Snapshot(_ context.Context, personID, institutionID string, year int) (store.PersonYear, error) {
	s.mu.RLock()
	py, err := s.readLocked(personID, institutionID, year)
	s.mu.RUnlock()
	// The caller's to keep and change: a copy of the stored maps and of
	// the person's identities.
	py.Accumulators = py.Accumulators.Clone()
	py.Person = clonePerson(py.Person)
	return py, err
}

// readLocked reads a person-year; s.mu must be held. The accumulators'
// maps are the stored ones, to be read only (Snapshot copies them; Settle
// hands them to compute, which must not modify them): the store never
// changes stored accumulators in place, it stores new ones
// (applyLocked), so they may be read after s.mu is released.
func (s *Store) readLocked(personID, institutionID string, year int) (store.PersonYear, error) {
	e, ok := s.persons[personID]
	if !ok {
		return store.PersonYear{}, fmt.Errorf("person %q: %w", personID, store.ErrNotFound)
	}
	return s.readEntryLocked(e, institutionID, year), nil
}

// readEntryLocked is readLocked of a person already looked up.
func (s *Store) readEntryLocked(e *personEntry, institutionID string, year int) store.PersonYear {
	return store.PersonYear{
		Person:       e.p,
		Accumulators: e.accumulators(year),
		BudgetUsed:   s.budgetUsed[institutionYear{institutionID, year}],
		Filings:      s.filingsLocked(e.p.ID),
	}
}

// replayLocked answers a request whose key is already recorded: the
// recorded settlement for the same request (same reports whether a
// recorded fingerprint is this request's), ErrConflict for another one.
// kh is the key's hash (records.keyHash). s.mu must be held.
func (s *Store) replayLocked(key requestKey, kh uint64, same func(fingerprint string) bool) (engine.Settlement, bool, error) {
	var slot uint32
	if e, ok := s.reversalKeys[key]; ok {
		if !same(e.fingerprint) {
			return engine.Settlement{}, true, conflict(key)
		}
		slot, _ = s.recs.slotOf(e.settlementID)
	} else {
		var fp []byte
		if slot, fp, ok = s.recs.settleKey(key, kh); !ok {
			return engine.Settlement{}, false, nil
		}
		if !same(string(fp)) {
			return engine.Settlement{}, true, conflict(key)
		}
	}
	st, err := decodeRecord(s.recs.bytes(slot))
	return st, true, err
}

func conflict(key requestKey) error {
	return fmt.Errorf("request id %q of institution %q: %w", key.requestID, key.institution, store.ErrConflict)
}

// keyTakenLocked reports whether a request key is recorded. s.mu must be
// held.
func (s *Store) keyTakenLocked(key requestKey) bool {
	if _, ok := s.reversalKeys[key]; ok {
		return true
	}
	_, _, ok := s.recs.settleKey(key, s.recs.keyHash(key))
	return ok
}

// Settle records a settlement atomically; see store.Store.
func (s *Store) Settle(ctx context.Context, claim engine.Claim, compute store.ComputeFunc) (engine.Settlement, error) {
	return s.settle(ctx, claim, compute, nil)
}

// settle is Settle, and SettleVisit when mark is not nil: the visit's
// stripe (visitStripes) is held from before the person's lock is taken
// and the visit checked (before compute runs) until it is marked
// settled, just after the settlement's writes under the store's mutex. The book's mutex is never
// awaited under the store's.
func (s *Store) settle(ctx context.Context, claim engine.Claim, compute store.ComputeFunc, mark *store.VisitMark) (engine.Settlement, error) {
	key := requestKey{claim.InstitutionID, claim.RequestID}
	kh := s.recs.keyHash(key)
	same := claim.SameRequest
	// The key is looked up three times: here, under the person's lock
	// before compute, and under the write lock in commit, the only one
	// that decides for a key settled for another person meanwhile. The
	// one before compute answers a retry that committed while this call
	// waited for the person, instead of a compute error or a refused
	// visit mark. This one is kept too, although under the person's lock
	// the next would answer the same replays: it answers a recorded key
	// for an unknown person (before ErrNotFound), a retry whose context
	// is done (before ctx.Err), and a SettleVisit retry without the
	// visit's stripe or the person's lock, as callers get them now.
	// It costs little: it is the probe that brings the key's place in
	// the index into the cache, and the two after it find it there (in
	// BenchmarkMemstoreSettleLoaded's profile about 30 ns each against
	// 350 ns for the first).
	s.mu.RLock()
	st, done, err := s.replayLocked(key, kh, same)
	person, known := s.persons[claim.PersonID]
	s.mu.RUnlock()
	if done {
		return st, err
	}
	// Persons are never deleted: checking first keeps unknown ids from
	// growing the lock table, and the entry found stays the person's.
	if !known {
		return engine.Settlement{}, fmt.Errorf("person %q: %w", claim.PersonID, store.ErrNotFound)
	}
	if mark != nil {
		// Held until the visit is marked: nothing changes the visit
		// between the check below and the mark (visitStripes). Taken
		// before the person's lock, so that uploads to the visit wait
		// while the settlement waits for its person, rather than making
		// its mark stale again and again.
		vmu := s.visitLocks.lock(mark.VisitID)
		defer vmu.Unlock()
	}
	person.mu.Lock() // lockPerson(claim.PersonID), without looking it up
	defer person.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return engine.Settlement{}, err
	}
	s.mu.RLock()
	st, done, err = s.replayLocked(key, kh, same)
	state := s.readEntryLocked(person, claim.InstitutionID, claim.Year())
	s.mu.RUnlock()
	if done {
		return st, err
	}
	if mark != nil {
		// Refused before computing, so that a stale mark is not checked
		// against figures it was never meant for.
		if err := s.visits.markable(*mark); err != nil {
			return engine.Settlement{}, err
		}
	}
	res, err := compute(state)
	if err != nil {
		return engine.Settlement{}, err
	}
	// Recorded as settled: with the cross_region decided. Everything that
	// does not depend on the store's state is done before the store's
	// mutex is taken, which every settlement needs: the hash, the
	// changes, the record's copy and a settlement id.
	claim = claim.Decided(res.CrossRegion)
	fp := claim.Fingerprint()
	changes := engine.SettleChanges(claim, res)
	// The person-year's accumulators after this settlement, computed
	// before the store's mutex is taken rather than under it: only
	// settlements and reversals of the person change them (applyLocked),
	// each under the person's lock, which this call has held since it read
	// state, so they are still state.Accumulators when commit stores these.
	acc := changes.ApplyAccumulators(state.Accumulators)
	out := engine.Settlement{
		Claim:       claim,
		Fingerprint: fp,
		State:       engine.StateSettled,
		Result:      res,
	}
	// The record is encoded: it shares nothing with the caller's claim or
	// compute's result, which the settlement returned is made of (they
	// are the caller's). Its ID and budget are added under the lock.
	buf := bodyBuffers.Get().(*[]byte)
	defer bodyBuffers.Put(buf)
	body := appendRecordBody((*buf)[:0], &out)
	*buf = body
	id := store.NewSettlementID()

	st, done, err = s.commit(person, key, kh, same, changes, acc, &out, id, body)
	if done || mark == nil {
		return st, err
	}
	// The visit is marked after the store's mutex is released, not under
	// it: its stripe, held since markable, kept it as it was checked, so
	// the mark cannot be refused, and no call sees the visit (it waits
	// for the stripe) before it is marked. Every call that changes a
	// visit holds its stripe, and SettledByMark checks only the state,
	// generation and details version markable checked: a refusal here is
	// a bug in this store, reported as such (the API answers INTERNAL and
	// logs it) rather than passed over.
	if err := s.visits.settleMark(*mark, st.ID); err != nil {
		panic(fmt.Sprintf("memstore: settlement %s stored but its visit %s refused the mark it was checked for: %v", st.ID, mark.VisitID, err))
	}
	return st, nil
}

// commit records the settlement out (body encoded; acc the accumulators
// after changes) under the store's mutex, with id or, if that is taken, a
// new one, unless a request with the same key (of hash kh) committed
// while it computed: then it reports done and what that request's answer
// is for this one.
func (s *Store) commit(person *personEntry, key requestKey, kh uint64, same func(string) bool, changes engine.Changes, acc engine.Accumulators, out *engine.Settlement, id string, body []byte) (engine.Settlement, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A request with the same key for another person may have committed
	// while we computed: the key decides, and nothing is applied.
	if st, done, err := s.replayLocked(key, kh, same); done {
		return st, true, err
	}
	used := s.applyLocked(person, changes, acc)
	if res := &out.Result; res.BudgetLimit != nil {
		b := engine.NewBudgetStatus(out.Claim.Year(), *res.BudgetLimit, used, res.WarnRatio)
		res.Budget = &b
	}
	// LoadSettlements stores given ids as they are: one may be taken.
	// Claimed after the changes are applied, just before the record is
	// added, so that nothing between can leave the id claimed without
	// its record.
	for !s.recs.claimID(id) {
		id = store.NewSettlementID()
	}
	out.ID = id
	var pre [96]byte
	s.addRecordLocked(person, out.Claim, kh, s.recs.write(appendRecordPrefix(pre[:0], id, out.Result.Budget), body))
	return *out, false, nil
}

// Reverse undoes a settlement; see store.Store.
func (s *Store) Reverse(ctx context.Context, r store.Reversal) (engine.Settlement, error) {
	rec, err := s.GetSettlement(ctx, r.SettlementID)
	if err != nil {
		return engine.Settlement{}, err
	}
	if err := r.Allowed(rec); err != nil {
		return engine.Settlement{}, err
	}
	mu := s.lockPerson(rec.Claim.PersonID)
	defer mu.Unlock()
	if err := ctx.Err(); err != nil {
		return engine.Settlement{}, err
	}
	key := requestKey{rec.Claim.InstitutionID, r.RequestID}
	fp := store.ReversalFingerprint(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, done, err := s.replayLocked(key, s.recs.keyHash(key), func(recorded string) bool { return recorded == fp }); done {
		return st, err
	}
	slot, _ := s.recs.slotOf(r.SettlementID)
	cur, err := decodeRecord(s.recs.bytes(slot))
	if err != nil {
		return engine.Settlement{}, err
	}
	if cur.State == engine.StateReversed {
		return engine.Settlement{}, fmt.Errorf("settlement %q was reversed by request %q: %w", cur.ID, cur.ReversalRequestID, engine.ErrAlreadyReversed)
	}
	ch := engine.ReverseChanges(cur)
	person := s.persons[ch.PersonID]
	s.applyLocked(person, ch, ch.ApplyAccumulators(person.accumulators(ch.Year)))
	// The balance right after the reversal, read under the person's lock
	// and the store's mutex: kept with the record, so that every reading
	// and every retry answers it, whatever the account does later.
	after := person.p.AccountBalance
	next := cur
	next.State = ch.State
	next.ReversalReason = r.Reason
	next.ReversalRequestID = r.RequestID
	next.BalanceAfterReversal = &after
	s.recs.replace(slot, s.recs.write(nil, appendRecord(nil, &next)))
	s.reversalKeys[key] = keyEntry{fingerprint: fp, settlementID: cur.ID}
	return next, nil
}

// applyLocked applies the engine's plan of changes (engine.SettleChanges,
// engine.ReverseChanges) to the accumulators, the account balance and the
// budget usage, and returns the usage after it. person is the entry of
// ch.PersonID; acc are its accumulators of ch.Year after the changes
// (ch.ApplyAccumulators of those stored), which the caller may compute
// before it takes s.mu, holding the person's lock. s.mu must be held for
// writing.
func (s *Store) applyLocked(person *personEntry, ch engine.Changes, acc engine.Accumulators) engine.Money {
	person.setAccumulators(ch.Year, acc)
	person.p.AccountBalance = ch.ApplyAccount(person.p.AccountBalance)
	iy := institutionYear{ch.InstitutionID, ch.Year}
	used := ch.ApplyBudget(s.budgetUsed[iy])
	s.budgetUsed[iy] = used
	return used
}

// nextSettlementIDLocked assigns a new settlement id
// (store.NewSettlementID), one no settlement has (LoadSettlements stores
// given ids as they are), and claims it for the next record
// (records.claimID). s.mu must be held for writing.
func (s *Store) nextSettlementIDLocked() string {
	for {
		id := store.NewSettlementID()
		if s.recs.claimID(id) {
			return id
		}
	}
}

// bodyBuffers are the buffers Settle encodes a record's body into before
// it takes the store's mutex.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// addRecordLocked indexes a new settlement of claim, whose record is
// written at ref and whose id is claimed (records.claimID): by
// institution and by person (person is the entry of claim.PersonID), and
// its request key, of hash kh (records.keyHash). s.mu must be held for
// writing.
func (s *Store) addRecordLocked(person *personEntry, claim engine.Claim, kh uint64, ref recordRef) {
	slot := s.recs.add(ref)
	s.byInstitution[claim.InstitutionID] = append(s.byInstitution[claim.InstitutionID], slot)
	person.slots = append(person.slots, slot)
	s.recs.addSettleKey(requestKey{claim.InstitutionID, claim.RequestID}, kh, slot)
}

// GetSettlement reads a settlement. Returns store.ErrNotFound if there is none.
func (s *Store) GetSettlement(_ context.Context, id string) (engine.Settlement, error) {
	s.mu.RLock()
	slot, ok := s.recs.slotOf(id)
	var rec []byte
	if ok {
		rec = s.recs.bytes(slot)
	}
	s.mu.RUnlock()
	if !ok {
		return engine.Settlement{}, fmt.Errorf("settlement %q: %w", id, store.ErrNotFound)
	}
	// Written bytes never change: they are decoded without the lock.
	return decodeRecord(rec)
}
