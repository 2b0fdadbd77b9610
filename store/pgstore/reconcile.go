package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/store"
)

// DefaultListLimit is how many settlements Reconcile lists when the query
// sets no limit.
const DefaultListLimit = 1000

// Reconcile's statements, run with custom plans (customPlansSQL): a
// generic plan cached on a pooled connection while settlements was small
// scans the whole table, and planning costs nothing beside reading an
// institution's period. The visit types are a filter ($5, none: all), not
// keys.
const (
	// reconcileWhere selects the settlements counted.
	reconcileWhere = `s.institution_id = $1 AND s.settle_date BETWEEN $2 AND $3 AND s.state = 2
		AND ($4 = 0 OR s.policy_scheme = $4) AND (cardinality($5::int2[]) = 0 OR s.visit_type = ANY($5))`
	// reconcileTotalsSQL sums the settlements counted.
	reconcileTotalsSQL = `SELECT count(*), coalesce(sum(s.total), 0), coalesce(sum(s.fund_total), 0),
		coalesce(sum(s.account), 0) FROM {s}.settlements s WHERE ` + reconcileWhere
	// reconcileListSQL lists them, by settle date then id, at most $6.
	reconcileListSQL = `SELECT s.settlement_id, s.request_id, s.settle_date, s.total, s.fund_total, s.account
		FROM {s}.settlements s WHERE ` + reconcileWhere + ` ORDER BY s.settle_date, s.settlement_id COLLATE "C" LIMIT $6`
)

// Reconcile computes an institution's totals for a period (对总账) and,
// when they differ from q.Claimed, lists the settlements counted, by
// settle date then id, at most q.ListLimit (DefaultListLimit when it is ≤ 0); see
// store.ClearingStore. Totals and list are read from one snapshot.
func (s *Store) Reconcile(ctx context.Context, q store.ReconcileQuery) (store.ReconcileResult, error) {
	visitTypes := make([]int16, len(q.VisitTypes))
	for i, v := range q.VisitTypes {
		visitTypes[i] = int16(v)
	}
	args := []any{q.InstitutionID, q.From.String(), q.To.String(), int16(q.Scheme), visitTypes}
	var res store.ReconcileResult
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, customPlansSQL); err != nil {
			return translate(err)
		}
		t := &res.Totals
		err := tx.QueryRow(ctx, s.sql(reconcileTotalsSQL), args...).Scan(&t.Count, &t.Total, &t.FundTotal, &t.Account)
		if err != nil {
			return fmt.Errorf("reconcile %s: %w", q.InstitutionID, translate(err))
		}
		if res.Totals.Equal(q.Claimed) {
			return nil
		}
		limit := q.ListLimit
		if limit <= 0 {
			limit = DefaultListLimit
		}
		rows, err := tx.Query(ctx, s.sql(reconcileListSQL), append(args, limit)...)
		if err != nil {
			return translate(err)
		}
		res.Settlements, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ReconcileSettlement, error) {
			var rs store.ReconcileSettlement
			var date time.Time
			err := r.Scan(&rs.SettlementID, &rs.RequestID, &date, &rs.Total, &rs.FundTotal, &rs.Account)
			rs.SettleDate = dateOf(date)
			return rs, err
		})
		return translate(err)
	})
	if err != nil {
		return store.ReconcileResult{}, err
	}
	if !res.Totals.Equal(q.Claimed) {
		res.Truncated = res.Totals.Count > int64(len(res.Settlements))
	}
	return res, nil
}
