package memstore

import (
	"context"
	"sort"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// defaultListLimit is how many settlements Reconcile lists when the query
// sets no limit (ListLimit ≤ 0).
const defaultListLimit = 1000

// Reconcile computes, under the read lock (one snapshot), the
// institution's totals of settled, not reversed, settlements with
// settle_date in [q.From, q.To], narrowed to q.Scheme (the policy the
// settlement used) and q.VisitTypes when set, and lists them by settle date
// and id when the totals differ from q.Claimed: at most q.ListLimit, or
// 1000 when q.ListLimit ≤ 0.
func (s *Store) Reconcile(ctx context.Context, q store.ReconcileQuery) (store.ReconcileResult, error) {
	if err := ctx.Err(); err != nil {
		return store.ReconcileResult{}, err
	}
	// The views are read under the lock, the records' bytes after it
	// (they never change).
	type viewed struct {
		rec []byte
		v   recordView
	}
	var counted []viewed
	s.mu.RLock()
	for _, slot := range s.byInstitution[q.InstitutionID] {
		rec := s.recs.bytes(slot)
		v, err := viewRecord(rec)
		if err != nil {
			s.mu.RUnlock()
			return store.ReconcileResult{}, err
		}
		d := v.settleDate
		if v.state != engine.StateSettled || d.Compare(q.From) < 0 || d.Compare(q.To) > 0 {
			continue
		}
		if q.Scheme != engine.SchemeUnspecified && v.policyScheme != q.Scheme {
			continue
		}
		if len(q.VisitTypes) > 0 && !hasVisitType(q.VisitTypes, v.visitType) {
			continue
		}
		counted = append(counted, viewed{rec, v})
	}
	s.mu.RUnlock()

	var res store.ReconcileResult
	for _, c := range counted {
		b := c.v.breakdown
		res.Totals.Count++
		res.Totals.Total = res.Totals.Total.Add(b.Total)
		res.Totals.FundTotal = res.Totals.FundTotal.Add(b.FundTotal)
		res.Totals.Account = res.Totals.Account.Add(b.Account)
	}
	if res.Totals.Equal(q.Claimed) {
		return res, nil
	}
	sort.Slice(counted, func(i, j int) bool {
		a, b := &counted[i], &counted[j]
		if c := a.v.settleDate.Compare(b.v.settleDate); c != 0 {
			return c < 0
		}
		return string(a.v.id.in(a.rec)) < string(b.v.id.in(b.rec))
	})
	limit := q.ListLimit
	if limit <= 0 {
		limit = defaultListLimit
	}
	if len(counted) > limit {
		counted = counted[:limit]
		res.Truncated = true
	}
	res.Settlements = make([]store.ReconcileSettlement, 0, len(counted))
	for _, c := range counted {
		b := c.v.breakdown
		res.Settlements = append(res.Settlements, store.ReconcileSettlement{
			SettlementID: string(c.v.id.in(c.rec)),
			RequestID:    string(c.v.requestID.in(c.rec)),
			SettleDate:   c.v.settleDate,
			Total:        b.Total,
			FundTotal:    b.FundTotal,
			Account:      b.Account,
		})
	}
	return res, nil
}
