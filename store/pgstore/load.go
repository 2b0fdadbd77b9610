package pgstore

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// LoadSettlements stores already-computed settlements as they are given,
// in one transaction, with COPY into settlements and request_keys: for
// benchmarks and bulk loaders of history. A settlement without an id gets
// a new one (store.NewSettlementID); one without a fingerprint gets
// its claim's; a zero state is stored as settled. The policy region and
// scheme stored for clearing are the result's (Result.PolicyRegion and
// PolicyScheme). A reversed settlement keeps its BalanceAfterReversal
// (none when nil); any other state stores none.
//
// It checks nothing (persons, institutions and policies need not exist)
// and does not touch what Settle maintains beside the settlement: the
// persons' accumulators and account balances and the institutions' budget
// usage stay as they are. A request id used before, or twice, fails the
// whole call with store.ErrConflict. The slice is not modified.
func (s *Store) LoadSettlements(ctx context.Context, sts []engine.Settlement) error {
	if len(sts) == 0 {
		return nil
	}
	return s.withTx(ctx, func(tx pgx.Tx) error {
		now := s.now().UTC().Format("2006-01-02 15:04:05.999999Z07:00")
		var settlements, keys []byte
		for i := range sts {
			st := &sts[i]
			id := st.ID
			if id == "" {
				id = store.NewSettlementID()
			}
			fp := st.Fingerprint
			if fp == "" {
				fp = st.Claim.Fingerprint()
			}
			state := st.State
			if state == engine.StateUnspecified {
				state = engine.StateSettled
			}
			claimDoc, err := encodeClaim(st.Claim)
			if err != nil {
				return fmt.Errorf("encode claim of %q: %w", id, err)
			}
			resultDoc, err := encodeResult(st.Result)
			if err != nil {
				return fmt.Errorf("encode result of %q: %w", id, err)
			}
			cols, err := settlementCodes(st.Claim.VisitType, state, st.Result.PolicyScheme)
			if err != nil {
				return fmt.Errorf("settlement %q: %w", id, err)
			}
			c, b := &st.Claim, &st.Result.Breakdown
			reversed := state == engine.StateReversed
			settlements = appendRow(settlements, copyText(id), copyText(c.InstitutionID), copyText(c.RequestID),
				copyText(c.PersonID), copyInt(int64(cols.visitType)), copyRaw(c.SettleDate.String()), copyInt(int64(c.Year())),
				copyInt(int64(cols.state)), copyText(fp), copyText(string(claimDoc)), copyText(string(resultDoc)),
				copyRaw(b.Total.String()), copyRaw(b.BasicFund.String()), copyRaw(b.FundTotal.String()), copyRaw(b.Account.String()),
				copyNullText(st.ReversalRequestID, reversed), copyNullText(st.ReversalReason, reversed), copyRaw(now),
				copyNullText(now, reversed), copyText(st.Result.PolicyRegion), copyInt(int64(cols.scheme)),
				copyText(c.DRGCode), copyRaw(b.PersonalTotal.String()), balanceAfterReversal(st, reversed))
			keys = appendRow(keys, copyText(c.InstitutionID), copyText(c.RequestID), copyText(fp), copyText(id))
			if reversed && st.ReversalRequestID != "" {
				rfp := store.ReversalFingerprint(store.Reversal{RequestID: st.ReversalRequestID, SettlementID: id, Reason: st.ReversalReason})
				keys = appendRow(keys, copyText(c.InstitutionID), copyText(st.ReversalRequestID), copyText(rfp), copyText(id))
			}
		}
		conn := tx.Conn().PgConn()
		if _, err := conn.CopyFrom(ctx, bytes.NewReader(settlements), s.sql(`COPY {s}.settlements (settlement_id, institution_id,
				request_id, person_id, visit_type, settle_date, year, state, fingerprint, claim, result, total, basic_fund,
				fund_total, account, reversal_request_id, reversal_reason, settled_at, reversed_at, policy_region, policy_scheme,
				drg_code, personal_total, balance_after_reversal) FROM STDIN`)); err != nil {
			return fmt.Errorf("load settlements: %w", translate(err))
		}
		if _, err := conn.CopyFrom(ctx, bytes.NewReader(keys), s.sql(`COPY {s}.request_keys (institution_id, request_id,
				fingerprint, settlement_id) FROM STDIN`)); err != nil {
			return fmt.Errorf("load request keys: %w", translate(err))
		}
		return nil
	})
}

// balanceAfterReversal is the COPY field of a loaded settlement's balance
// after its reversal: as given for a reversed one, NULL otherwise.
func balanceAfterReversal(st *engine.Settlement, reversed bool) copyField {
	if !reversed || st.BalanceAfterReversal == nil {
		return copyField{null: true}
	}
	return copyRaw(st.BalanceAfterReversal.String())
}

// copyField is one value of a COPY text row, escaped or not.
type copyField struct {
	s      string
	escape bool
	null   bool
}

func copyText(s string) copyField { return copyField{s: s, escape: true} }
func copyRaw(s string) copyField  { return copyField{s: s} }
func copyInt(v int64) copyField   { return copyField{s: strconv.FormatInt(v, 10)} }

// copyNullText is s, or NULL when !present.
func copyNullText(s string, present bool) copyField {
	return copyField{s: s, escape: true, null: !present}
}

// appendRow appends one COPY text row.
func appendRow(b []byte, fields ...copyField) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, '\t')
		}
		switch {
		case f.null:
			b = append(b, '\\', 'N')
		case f.escape:
			b = appendCopyText(b, f.s)
		default:
			b = append(b, f.s...)
		}
	}
	return append(b, '\n')
}
