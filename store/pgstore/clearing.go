package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

const (
	// progressEvery is how many settlements a run reads between two
	// progress reports.
	progressEvery = 10_000
)

// runPlanSettings are the settings of a run's read transaction. Its
// queries must be planned for their values: a generic plan (which
// PostgreSQL picks for a prepared statement after five executions when
// it looks as cheap) cannot know that a run selects a whole region-year,
// and reads a million rows through a bitmap scan of the heap and a sort
// instead of the covering index in order, or deletes a replaced draft's
// cases with a scan of the whole table. And they are scans of indexes
// that JIT compilation would only delay (by up to a second when it
// optimizes).
const runPlanSettings = `SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true)`

// sql fills the store's schema into a query written with {s}.
func (s *Store) sql(q string) string {
	return strings.ReplaceAll(q, "{s}", pgx.Identifier{s.schema}.Sanitize())
}

// runLockKey is the transaction advisory lock that serializes the commits
// of runs of one final scope: the final-overlap check and the replacement
// of a draft happen under it.
func (s *Store) runLockKey(scope string) string {
	return s.schema + " clearing " + scope
}

// RunClearing reads one snapshot of what sel selects and stores the run c
// computes from it; see store.ClearingStore.
//
// The settlements are read in a REPEATABLE READ READ ONLY transaction on
// one connection and streamed to c, never held in memory; the case lines
// c returns are copied (COPY) into clearing_cases on a second connection,
// in a write transaction, while the reading goes on. When c has finished,
// the run and its institution lines are inserted in that transaction,
// under a transaction advisory lock on the run's final scope: the overlap
// of final runs is checked again there, and the previous draft of the
// run's key is deleted with its lines and cases. Any error, a cancelled
// context included, rolls both transactions back: nothing is stored and
// an earlier draft stays. A run holds two of the pool's connections
// while it runs (the pool needs at least two).
func (s *Store) RunClearing(ctx context.Context, sel store.Selection, c engine.Clearer, progress store.Progress) (engine.ClearingRun, error) {
	run, err := s.runClearing(ctx, sel, c, progress)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		// Cancelled: whatever failed first, the caller's context is why.
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return run, err
}

func (s *Store) runClearing(ctx context.Context, sel store.Selection, c engine.Clearer, progress store.Progress) (engine.ClearingRun, error) {
	key := engine.ClearingRun{Kind: sel.Kind, Region: sel.Region, Scheme: sel.Scheme, Year: sel.Year,
		From: sel.From, To: sel.To, ContractID: sel.ContractID, Final: sel.Final}
	switch sel.Kind {
	case engine.ClearingDRG, engine.ClearingBudget, engine.ClearingCapitation:
	default:
		return engine.ClearingRun{}, fmt.Errorf("clearing run of kind %s: %w", sel.Kind, engine.ErrInvariant)
	}
	if sel.Final {
		// Fail early, before reading a year of settlements; checked again
		// under the lock when the run is stored.
		if err := s.checkFinal(ctx, s.pool, key); err != nil {
			return engine.ClearingRun{}, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wconn, err := s.pool.Acquire(ctx)
	if err != nil {
		return engine.ClearingRun{}, translate(err)
	}
	defer wconn.Release()
	rconn, err := s.pool.Acquire(ctx)
	if err != nil {
		return engine.ClearingRun{}, translate(err)
	}
	defer rconn.Release()

	wtx, err := wconn.Begin(ctx)
	if err != nil {
		return engine.ClearingRun{}, translate(err)
	}
	defer func() { _ = wtx.Rollback(context.WithoutCancel(ctx)) }()
	// Custom plans only (runPlanSettings), and the run's id.
	var runID, mode string
	if err := wtx.QueryRow(ctx, s.sql(`SELECT set_config('plan_cache_mode', 'force_custom_plan', true),
		'CR' || lpad(nextval('{s}.clearing_run_seq')::text, 12, '0')`)).Scan(&mode, &runID); err != nil {
		return engine.ClearingRun{}, translate(err)
	}

	rtx, err := rconn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return engine.ClearingRun{}, translate(err)
	}
	defer func() { _ = rtx.Rollback(context.WithoutCancel(ctx)) }()

	if _, err := rtx.Exec(ctx, runPlanSettings); err != nil {
		return engine.ClearingRun{}, translate(err)
	}
	rd, err := s.prepareRead(ctx, rtx, sel, &key)
	if err != nil {
		return engine.ClearingRun{}, err
	}
	if err := c.Begin(rd.inputs); err != nil {
		return engine.ClearingRun{}, err
	}

	// The COPY runs beside the reading loop; buffers of formatted case
	// lines flow from the loop to it, and empty buffers flow back.
	feed := newCaseFeed(ctx, runID)
	copyDone := make(chan error, 1)
	go func() {
		_, err := wconn.Conn().PgConn().CopyFrom(ctx, feed, s.sql(`COPY {s}.clearing_cases (run_id, institution_id,
			settlement_id, request_id, settle_date, drg_code, total, ratio, cost_kind, points, personal_total, basic_fund) FROM STDIN`))
		if err != nil {
			feed.abort()
		}
		copyDone <- err
	}()
	readErr := s.readCases(ctx, cancel, rtx, rd, c, feed, progress)
	if readErr != nil {
		cancel() // stops the COPY, which then fails
		copyErr := <-copyDone
		if errors.Is(readErr, errCopyAborted) && copyErr != nil {
			return engine.ClearingRun{}, fmt.Errorf("store case lines: %w", translate(copyErr))
		}
		return engine.ClearingRun{}, readErr
	}
	feed.close()
	if err := <-copyDone; err != nil {
		return engine.ClearingRun{}, fmt.Errorf("store case lines: %w", translate(err))
	}
	if err := ctx.Err(); err != nil {
		return engine.ClearingRun{}, err
	}
	// The snapshot is no longer needed.
	if err := rtx.Commit(ctx); err != nil {
		return engine.ClearingRun{}, translate(err)
	}
	rconn.Release()

	run, err := c.Finish()
	if err != nil {
		return engine.ClearingRun{}, err
	}
	run.RunID = runID
	run.Kind, run.Region, run.Scheme, run.Year = key.Kind, key.Region, key.Scheme, key.Year
	run.From, run.To, run.ContractID, run.Final = key.From, key.To, key.ContractID, key.Final
	if err := s.storeRun(ctx, wtx, run); err != nil {
		return engine.ClearingRun{}, err
	}
	if err := ctx.Err(); err != nil {
		return engine.ClearingRun{}, err
	}
	if err := wtx.Commit(ctx); err != nil {
		return engine.ClearingRun{}, translate(err)
	}
	return run, nil
}

// checkFinal returns engine.ErrFinalExists if a final run of r's scope
// overlaps r's period.
func (s *Store) checkFinal(ctx context.Context, q rowQuerier, r engine.ClearingRun) error {
	var other string
	err := q.QueryRow(ctx, s.sql(`SELECT run_id FROM {s}.clearing_runs
		WHERE final AND final_scope = $1 AND period_from <= $3 AND $2 <= period_to LIMIT 1`),
		r.FinalScope(), r.From.String(), r.To.String()).Scan(&other)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return translate(err)
	}
	return fmt.Errorf("final run %s covers %s to %s: %w", other, r.From, r.To, engine.ErrFinalExists)
}

// caseRead is what a run reads besides the settlements, and how it selects
// them.
type caseRead struct {
	inputs engine.RunInputs
	// levels are the region's institutions' levels (DRG, BUDGET); a DRG
	// run reads only settlements at these institutions.
	levels map[string]int
	query  string
	args   []any
	total  int64
}

// prepareRead reads, in the run's snapshot, the count of the selected
// settlements (first: it takes the snapshot) and the run's other inputs.
func (s *Store) prepareRead(ctx context.Context, tx pgx.Tx, sel store.Selection, key *engine.ClearingRun) (*caseRead, error) {
	rd := &caseRead{}
	from, to := sel.From.String(), sel.To.String()
	// A period within one year (the API's rule) reads one year of the
	// indexes, in the order of their keys.
	yearCond := "s.year = $5"
	yearArgs := []any{sel.From.Year}
	if sel.From.Year != sel.To.Year {
		yearCond = "s.year BETWEEN $5 AND $6"
		yearArgs = []any{sel.From.Year, sel.To.Year}
	}
	visitTypes := make([]int16, len(sel.VisitTypes))
	for i, v := range sel.VisitTypes {
		visitTypes[i] = int16(v)
	}
	cols := `s.settlement_id, s.request_id, s.institution_id, s.visit_type, s.settle_date, s.drg_code,
		(s.total * 100)::int8, (s.personal_total * 100)::int8, (s.basic_fund * 100)::int8`
	var countSQL string
	var countArgs []any
	switch sel.Kind {
	case engine.ClearingDRG:
		args := append([]any{sel.Region, int16(sel.Scheme), from, to}, yearArgs...)
		where := `s.visit_type = 1 AND s.policy_region = $1 AND s.policy_scheme = $2 AND s.settle_date BETWEEN $3 AND $4
			AND s.state = 2 AND ` + yearCond
		countSQL = `SELECT count(*) FROM {s}.settlements s WHERE ` + where +
			` AND s.institution_id IN (SELECT institution_id FROM {s}.institutions WHERE region = $1)`
		countArgs = args
		// The region's institutions are filtered here, not joined, so that
		// the rows come in the index's order.
		// Every column from the index (visit_type is its predicate, not a
		// column of it): an index-only scan, in the index's order.
		rd.query = `SELECT ` + strings.Replace(cols, "s.visit_type", "1::int2", 1) + `, 0::int2 FROM {s}.settlements s WHERE ` + where
		if sel.From.Year == sel.To.Year {
			rd.query += ` ORDER BY s.institution_id COLLATE "C", s.settlement_id COLLATE "C"`
		}
		rd.args = args
	case engine.ClearingBudget:
		args := []any{sel.Region, sel.Year, from, to, visitTypes}
		where := `s.institution_id IN (SELECT b.institution_id FROM {s}.institution_budgets b JOIN {s}.institutions i USING (institution_id)
				WHERE i.region = $1 AND b.year = $2)
			AND s.settle_date BETWEEN $3 AND $4 AND s.state = 2 AND s.visit_type = ANY($5)`
		countSQL = `SELECT count(*) FROM {s}.settlements s WHERE ` + where
		countArgs = args
		rd.query = `SELECT ` + cols + `, 0::int2 FROM {s}.settlements s WHERE s.institution_id = ANY($1)
			AND s.settle_date BETWEEN $2 AND $3 AND s.state = 2 AND s.visit_type = ANY($4)`
		rd.args = []any{nil, from, to, visitTypes} // $1: the institutions with a budget, read below
	case engine.ClearingCapitation:
		args := append([]any{sel.ContractID, from, to, visitTypes}, yearArgs...)
		where := ` WHERE m.contract_id = $1 AND s.settle_date BETWEEN $2 AND $3 AND s.state = 2 AND s.visit_type = ANY($4)
			AND ` + yearCond
		join := `{s}.contract_members m JOIN {s}.settlements s ON s.person_id = m.person_id`
		countSQL = `SELECT count(*) FROM ` + join + where
		countArgs = args
		rd.query = `SELECT ` + cols + `, coalesce(i.level, 0)::int2 FROM ` + join +
			` LEFT JOIN {s}.institutions i ON i.institution_id = s.institution_id` + where
		rd.args = args
	}
	if err := tx.QueryRow(ctx, s.sql(countSQL), countArgs...).Scan(&rd.total); err != nil {
		return nil, fmt.Errorf("count the run's settlements: %w", translate(err))
	}
	switch sel.Kind {
	case engine.ClearingDRG, engine.ClearingBudget:
		ins, err := s.regionInstitutions(ctx, tx, sel.Region)
		if err != nil {
			return nil, err
		}
		rd.inputs.Institutions = ins
		rd.levels = make(map[string]int, len(ins))
		var budgeted []string
		for _, in := range ins {
			rd.levels[in.ID] = in.Level
			if _, ok := in.Budget(sel.Year); ok {
				budgeted = append(budgeted, in.ID)
			}
		}
		if sel.Kind == engine.ClearingBudget {
			rd.args[0] = budgeted
		}
	case engine.ClearingCapitation:
		var region string
		var scheme int16
		var year int
		err := tx.QueryRow(ctx, s.sql(`SELECT region, scheme, year FROM {s}.capitation_contracts WHERE contract_id = $1`),
			sel.ContractID).Scan(&region, &scheme, &year)
		if err != nil {
			return nil, fmt.Errorf("contract %q: %w", sel.ContractID, translate(err))
		}
		if key.Region == "" {
			key.Region = region
		}
		if key.Scheme == engine.SchemeUnspecified {
			key.Scheme = engine.Scheme(scheme)
		}
		if key.Year == 0 {
			key.Year = year
		}
		if err := tx.QueryRow(ctx, s.sql(`SELECT count(*) FROM {s}.contract_members WHERE contract_id = $1`),
			sel.ContractID).Scan(&rd.inputs.Members); err != nil {
			return nil, translate(err)
		}
	}
	rd.query = s.sql(rd.query)
	return rd, nil
}

// regionInstitutions reads a region's institutions with their budgets, by id.
func (s *Store) regionInstitutions(ctx context.Context, q pgx.Tx, region string) ([]engine.Institution, error) {
	rows, err := q.Query(ctx, s.sql(`SELECT i.institution_id, i.name, i.level, b.year, b.amount
		FROM {s}.institutions i LEFT JOIN {s}.institution_budgets b USING (institution_id)
		WHERE i.region = $1 ORDER BY i.institution_id COLLATE "C", b.year`), region)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []engine.Institution
	for rows.Next() {
		var id, name string
		var level int
		var year *int
		var amount *engine.Money // NULL: no budget row
		if err := rows.Scan(&id, &name, &level, &year, &amount); err != nil {
			return nil, translate(err)
		}
		if len(out) == 0 || out[len(out)-1].ID != id {
			out = append(out, engine.Institution{ID: id, Name: name, Region: region, Level: level})
		}
		if year != nil {
			in := &out[len(out)-1]
			in.Budgets = append(in.Budgets, engine.Budget{Year: *year, Amount: orZero(amount)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	return out, nil
}

// readCases streams the selected settlements to c and the case lines it
// returns to feed, reporting progress. On an error it cancels the run
// before closing the rows, so that the rest of the result is not read.
func (s *Store) readCases(ctx context.Context, cancel context.CancelFunc, tx pgx.Tx, rd *caseRead, c engine.Clearer, feed *caseFeed, progress store.Progress) (err error) {
	rows, err := tx.Query(ctx, rd.query, rd.args...)
	if err != nil {
		return fmt.Errorf("read the run's settlements: %w", translate(err))
	}
	defer func() {
		if err != nil {
			cancel()
		}
		rows.Close()
	}()
	if progress != nil {
		progress(0, rd.total)
	}
	var processed int64
	buf := feed.get()
	var (
		date                    time.Time
		visit, level            int16
		total, personal, basic  int64
		instID, drg, sid, reqID string
	)
	for rows.Next() {
		if err := rows.Scan(&sid, &reqID, &instID, &visit, &date, &drg, &total, &personal, &basic, &level); err != nil {
			return fmt.Errorf("read the run's settlements: %w", translate(err))
		}
		cs := engine.ClearingCase{
			SettlementID: sid, RequestID: reqID, InstitutionID: instID, Level: int(level),
			VisitType: engine.VisitType(visit), SettleDate: engine.Date{Year: date.Year(), Month: date.Month(), Day: date.Day()},
			DRGCode: drg, Total: engine.MoneyFromFen(total), PersonalTotal: engine.MoneyFromFen(personal), BasicFund: engine.MoneyFromFen(basic),
		}
		if rd.levels != nil {
			l, ok := rd.levels[instID]
			if !ok {
				continue // DRG: an institution of another region
			}
			cs.Level = l
		}
		line, err := c.Add(cs)
		if err != nil {
			return err
		}
		if line != nil {
			if buf, err = feed.add(buf, line); err != nil {
				return err
			}
		}
		processed++
		if processed%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if progress != nil {
				progress(processed, rd.total)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the run's settlements: %w", translate(err))
	}
	if len(buf) > 0 {
		if err := feed.send(buf); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if progress != nil && processed%progressEvery != 0 {
		progress(processed, rd.total)
	}
	return nil
}

// storeRun inserts a run with its institution lines (and a capitation
// run's components and shares) in tx, after its case lines were copied:
// under the scope's advisory lock it checks the final runs again and
// deletes the previous draft of the key with everything it had.
func (s *Store) storeRun(ctx context.Context, tx pgx.Tx, run engine.ClearingRun) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", s.runLockKey(run.FinalScope())); err != nil {
		return translate(err)
	}
	if run.Final {
		if err := s.checkFinal(ctx, tx, run); err != nil {
			return err
		}
	} else {
		var old string
		err := tx.QueryRow(ctx, s.sql(`DELETE FROM {s}.clearing_runs WHERE run_key = $1 AND NOT final RETURNING run_id`),
			run.RunKey()).Scan(&old)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return translate(err)
		default:
			// Lines, components and shares go with the run (ON DELETE
			// CASCADE); the cases have no foreign key.
			if _, err := tx.Exec(ctx, s.sql(`DELETE FROM {s}.clearing_cases WHERE run_id = $1`), old); err != nil {
				return translate(err)
			}
		}
	}
	b := &pgx.Batch{}
	var cp *engine.CapitationClearing
	capArgs := make([]any, 8)
	if run.Capitation != nil {
		cp = run.Capitation
		capArgs = []any{cp.ContractID, cp.Members, cp.Budget, cp.Actual, cp.Surplus, cp.Deficit, cp.FundCovers, cp.ContractBears}
	}
	b.Queue(s.sql(`INSERT INTO {s}.clearing_runs (run_id, kind, region, scheme, contract_id, year, period_from, period_to,
			final, run_key, final_scope, settlements, ungrouped, ungrouped_basic_fund, budget, personal_total, total_points,
			point_value, paid_total, cap_contract_id, cap_members, cap_budget, cap_actual, cap_surplus, cap_deficit,
			cap_fund_covers, cap_contract_bears, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
			$20, $21, $22, $23, $24, $25, $26, $27, $28)`),
		append([]any{run.RunID, int16(run.Kind), run.Region, int16(run.Scheme), run.ContractID, run.Year, run.From.String(),
			run.To.String(), run.Final, run.RunKey(), run.FinalScope(), run.Settlements, run.Ungrouped, run.UngroupedBasicFund,
			run.Budget, run.PersonalTotal, run.TotalPoints, run.PointValue, run.PaidTotal}, append(capArgs, s.now())...)...)
	insertLine := s.sql(`INSERT INTO {s}.clearing_lines (run_id, institution_id, cases, points, personal_total, basic_fund,
		payment, difference, budget, claimed, retained, shared, paid)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`)
	for _, l := range run.Institutions {
		b.Queue(insertLine, run.RunID, l.InstitutionID, l.Cases, l.Points, l.PersonalTotal, l.BasicFund, l.Payment,
			l.Difference, l.Budget, l.Claimed, l.Retained, l.Shared, l.Paid)
	}
	if cp != nil {
		insertComp := s.sql(`INSERT INTO {s}.clearing_run_components (run_id, position, name, budget, actual) VALUES ($1, $2, $3, $4, $5)`)
		for i, comp := range cp.Components {
			b.Queue(insertComp, run.RunID, i, comp.Name, comp.Budget, comp.Actual)
		}
		insertShare := s.sql(`INSERT INTO {s}.clearing_run_shares (run_id, position, party, amount) VALUES ($1, $2, $3, $4)`)
		for i, sh := range cp.Shares {
			b.Queue(insertShare, run.RunID, i, sh.Party, sh.Amount)
		}
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("store run %s: %w", run.RunID, translate(err))
	}
	return nil
}

// GetClearingRun reads a stored run with its institution lines (by
// institution id) and, for a capitation run, its clearing; see
// store.ClearingStore.
func (s *Store) GetClearingRun(ctx context.Context, runID string) (engine.ClearingRun, error) {
	var run engine.ClearingRun
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var kind, scheme int16
		var from, to time.Time
		var members *int64
		var capContract *string
		var capBudget, capActual, capSurplus, capDeficit, capCovers, capBears *engine.Money // NULL: not a capitation run
		err := tx.QueryRow(ctx, s.sql(`SELECT run_id, kind, region, scheme, contract_id, year, period_from, period_to, final,
				settlements, ungrouped, ungrouped_basic_fund, budget, personal_total, total_points, point_value, paid_total,
				cap_contract_id, cap_members, cap_budget, cap_actual, cap_surplus, cap_deficit, cap_fund_covers, cap_contract_bears
			FROM {s}.clearing_runs WHERE run_id = $1`), runID).Scan(&run.RunID, &kind, &run.Region, &scheme, &run.ContractID,
			&run.Year, &from, &to, &run.Final, &run.Settlements, &run.Ungrouped, &run.UngroupedBasicFund, &run.Budget,
			&run.PersonalTotal, &run.TotalPoints, &run.PointValue, &run.PaidTotal, &capContract, &members, &capBudget, &capActual,
			&capSurplus, &capDeficit, &capCovers, &capBears)
		if err != nil {
			return fmt.Errorf("clearing run %q: %w", runID, translate(err))
		}
		run.Kind, run.Scheme = engine.ClearingKind(kind), engine.Scheme(scheme)
		run.From, run.To = dateOf(from), dateOf(to)
		rows, err := tx.Query(ctx, s.sql(`SELECT institution_id, cases, points, personal_total, basic_fund, payment, difference,
				budget, claimed, retained, shared, paid
			FROM {s}.clearing_lines WHERE run_id = $1 ORDER BY institution_id`), runID)
		if err != nil {
			return translate(err)
		}
		run.Institutions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.ClearingLine, error) {
			var l engine.ClearingLine
			err := r.Scan(&l.InstitutionID, &l.Cases, &l.Points, &l.PersonalTotal, &l.BasicFund, &l.Payment, &l.Difference,
				&l.Budget, &l.Claimed, &l.Retained, &l.Shared, &l.Paid)
			return l, err
		})
		if err != nil {
			return translate(err)
		}
		if members == nil {
			return nil
		}
		cp := &engine.CapitationClearing{ContractID: *capContract, Members: *members, Budget: orZero(capBudget),
			Actual: orZero(capActual), Surplus: orZero(capSurplus), Deficit: orZero(capDeficit),
			FundCovers: orZero(capCovers), ContractBears: orZero(capBears)}
		rows, err = tx.Query(ctx, s.sql(`SELECT name, budget, actual FROM {s}.clearing_run_components
			WHERE run_id = $1 ORDER BY position`), runID)
		if err != nil {
			return translate(err)
		}
		cp.Components, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.ComponentClearing, error) {
			var c engine.ComponentClearing
			err := r.Scan(&c.Name, &c.Budget, &c.Actual)
			return c, err
		})
		if err != nil {
			return translate(err)
		}
		rows, err = tx.Query(ctx, s.sql(`SELECT party, amount FROM {s}.clearing_run_shares WHERE run_id = $1 ORDER BY position`), runID)
		if err != nil {
			return translate(err)
		}
		cp.Shares, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.PartyAmount, error) {
			var p engine.PartyAmount
			err := r.Scan(&p.Party, &p.Amount)
			return p, err
		})
		if err != nil {
			return translate(err)
		}
		run.Capitation = cp
		return nil
	})
	if err != nil {
		return engine.ClearingRun{}, err
	}
	return run, nil
}

// StatementCases lists the case lines of one institution in a run, by
// settlement id (byte order), after the settlement id after, at most limit
// (all when limit ≤ 0); see store.ClearingStore. One statement: the run's
// existence and its cases are read from one snapshot.
func (s *Store) StatementCases(ctx context.Context, runID, institutionID, after string, limit int) ([]engine.CaseLine, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, s.sql(`SELECT c.settlement_id, c.request_id, c.settle_date, c.drg_code, c.total, c.ratio,
			c.cost_kind, c.points, c.personal_total, c.basic_fund
		FROM {s}.clearing_runs r LEFT JOIN LATERAL (
			SELECT * FROM {s}.clearing_cases c
			WHERE c.run_id = r.run_id AND c.institution_id = $2 AND c.settlement_id > $3
			ORDER BY c.settlement_id LIMIT $4) c ON true
		WHERE r.run_id = $1
		ORDER BY c.settlement_id`), runID, institutionID, after, lim)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	found := false
	var out []engine.CaseLine
	for rows.Next() {
		found = true
		var sid, reqID, drg *string
		var date *time.Time
		var kind *int16
		var l engine.CaseLine
		// NULL when the run has no (more) cases for the institution.
		var total, personal, basic *engine.Money
		var ratio *engine.Ratio
		var points *engine.Points
		if err := rows.Scan(&sid, &reqID, &date, &drg, &total, &ratio, &kind, &points, &personal, &basic); err != nil {
			return nil, translate(err)
		}
		if sid == nil {
			continue // the run, with no (more) cases for the institution
		}
		l.SettlementID, l.RequestID, l.InstitutionID, l.SettleDate, l.DRGCode = *sid, *reqID, institutionID, dateOf(*date), *drg
		l.Total, l.Ratio, l.Kind, l.Points, l.PersonalTotal, l.BasicFund = orZero(total), orZero(ratio), engine.CostKind(*kind),
			orZero(points), orZero(personal), orZero(basic)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if !found {
		return nil, fmt.Errorf("clearing run %q: %w", runID, store.ErrNotFound)
	}
	return out, nil
}

// orZero is *p, or the zero value when p is nil (a NULL column).
func orZero[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// dateOf is the civil date of a date column.
func dateOf(t time.Time) engine.Date {
	return engine.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// readTx runs fn in a REPEATABLE READ READ ONLY transaction: its reads
// share one snapshot. fn's errors are returned as they are.
func (s *Store) readTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return translate(err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	return translate(tx.Commit(ctx))
}
