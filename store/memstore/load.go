package memstore

import (
	"context"
	"fmt"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// LoadSettlements stores already-computed settlements as they are, for
// benchmark and test loaders that build a large history without settling
// each claim. It is no part of store.Store and keeps none of Settle's
// bookkeeping: the accumulators, account balances and budget usage are
// left as they are (the settlements' Delta, Account and BasicFund are not
// applied), so a later Reverse of a loaded settlement subtracts what was
// never added. Clearing runs and reconciliations read loaded settlements
// like any other.
//
// Each settlement must be SETTLED (the zero state is taken as SETTLED) and
// its person must exist. An empty ID gets a new settlement id
// (store.NewSettlementID), an empty Fingerprint the claim's; the request key (institution, request id)
// is registered, so that a retry of the claim returns the loaded
// settlement. It is atomic: it returns store.ErrConflict if an id or a
// request key is taken or repeated, store.ErrNotFound for an unknown
// person, engine.ErrInvalid for another state, and then stores nothing.
func (s *Store) LoadSettlements(ctx context.Context, sts []engine.Settlement) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := map[string]bool{}
	keys := map[requestKey]bool{}
	for i, st := range sts {
		if st.State != engine.StateUnspecified && st.State != engine.StateSettled {
			return &engine.ValidationError{Violations: []engine.Violation{{
				Field: fmt.Sprintf("settlements[%d].state", i), Description: "only settled settlements can be loaded"}}}
		}
		if _, ok := s.persons[st.Claim.PersonID]; !ok {
			return fmt.Errorf("settlement %d: person %q: %w", i, st.Claim.PersonID, store.ErrNotFound)
		}
		if st.ID != "" {
			if _, taken := s.recs.slotOf(st.ID); taken || ids[st.ID] {
				return fmt.Errorf("settlement %d: id %q is taken: %w", i, st.ID, store.ErrConflict)
			}
			ids[st.ID] = true
		}
		k := requestKey{st.Claim.InstitutionID, st.Claim.RequestID}
		if s.keyTakenLocked(k) || keys[k] {
			return fmt.Errorf("settlement %d: request id %q of institution %q: %w", i, k.requestID, k.institution, store.ErrConflict)
		}
		keys[k] = true
	}
	// Given ids first, so that the ids assigned next skip them.
	var buf []byte
	for _, pass := range []bool{true, false} {
		for _, st := range sts {
			if (st.ID != "") != pass {
				continue
			}
			rec := st
			if rec.ID == "" {
				rec.ID = s.nextSettlementIDLocked()
			} else if !s.recs.claimID(rec.ID) {
				panic(fmt.Sprintf("memstore: settlement id %q, checked free, is taken", rec.ID))
			}
			rec.State = engine.StateSettled
			rec.BalanceAfterReversal = nil // settled: no reversal
			if rec.Fingerprint == "" {
				rec.Fingerprint = rec.Claim.Fingerprint()
			}
			buf = appendRecord(buf[:0], &rec)
			k := requestKey{rec.Claim.InstitutionID, rec.Claim.RequestID}
			s.addRecordLocked(s.persons[rec.Claim.PersonID], rec.Claim, s.recs.keyHash(k), s.recs.write(nil, buf))
		}
	}
	return nil
}
