package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// A group of settlements is one transaction (DECISIONS.md "Group commit on
// PostgreSQL"), in two round trips (pipelined_tx.go): one pipelined
// batch that begins it, locks every person of the group, in person id
// order, and reads their request keys, accumulators, filings and budget
// usage; each claim computed in arrival order against the state its
// predecessors in the group left; one batch of multi-row writes that
// inserts the settlements and commits. A group with a settlement under an
// institution budget takes three: its writes go first, in a batch that
// reads back the budget usage, which the settlements' results carry. A claim that fails
// (compute's error, an unknown person, a conflicting request id) gets its
// own error and is left out; a group whose transaction fails as a whole is
// settled again claim by claim (settleOne), so that no claim fails its
// neighbours. A SettleVisit call's visit is locked after the persons, in
// visit id order, in the first batch, checked in Go before its claim is
// computed (a refused mark leaves that claim out, as a failed compute
// does) and settled in the last batch with the settlements' insert.

const (
	// lockPersonsSQL locks the persons of a group in person id byte
	// order: LockRows runs above the sort, so two groups never wait for
	// each other in a cycle, nor a group and a transaction that locks
	// several persons in the same order (PutPersons, EnrollMembers).
	lockPersonsSQL = `SELECT ` + personColumns + `
		FROM {s}.persons WHERE person_id = ANY($1::text[]) ORDER BY person_id COLLATE "C" FOR UPDATE`
	// groupLockTimeoutSQL bounds how long a group waits for a lock: a
	// person held long by another transaction (an import, a stuck
	// client's reversal) must not stall the other persons of the group.
	// A group that times out fails, and its claims settle one by one,
	// each waiting only for its own person. Groups wait for each other
	// (the busy ward) far less than this.
	//
	// The group's statements run with generic plans: their parameters are
	// arrays whose length the planner would otherwise plan for on every
	// execution, never settling on the cached plan (planning was about a
	// tenth of PostgreSQL's CPU per settlement). Their plans do not depend
	// on the values: index probes per key (the LATERAL reads below) and
	// multi-row inserts.
	//
	// And without sequential scans (enable_seqscan off): a generic plan
	// is made once per pooled connection and kept until an ANALYZE of
	// its tables, and one made while a table was nearly empty scans it
	// whole, on every execution, however large it grows (a lock of 64
	// persons scanning all of them; each LATERAL probe below a scan of
	// request_keys). Every statement of the group reads by key, so with
	// the sequential scan priced out the planner takes the index whatever
	// the table's size and statistics when the plan was made
	// (TestKeyedStatementsProbeIndexes).
	groupLockTimeoutSQL = `SELECT pg_catalog.set_config('lock_timeout', '250ms', true),
		pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true),
		pg_catalog.set_config('enable_seqscan', 'off', true)`
	// The group's reads probe an index once per key: a LATERAL subquery
	// with a LIMIT is never flattened into a join, so the planner cannot
	// pick a hash join over a scan of the whole table, which it did while
	// the tables grew faster than autovacuum analysed them (a cached plan
	// for 1,000 request keys scanning 30,000: about a millisecond a
	// group); and with sequential scans off (groupLockTimeoutSQL) the
	// probe is an index scan even in a plan made while the table was
	// empty.
	groupKeysSQL = `SELECT u.institution_id, u.request_id, k.fingerprint, k.settlement_id
		FROM unnest($1::text[], $2::text[]) AS u(institution_id, request_id)
		CROSS JOIN LATERAL (SELECT k.fingerprint, k.settlement_id FROM {s}.request_keys k
			WHERE k.institution_id = u.institution_id AND k.request_id = u.request_id LIMIT 1) k`
	groupYearsSQL = `SELECT u.person_id, u.year, y.accumulators
		FROM unnest($1::text[], $2::int[]) AS u(person_id, year)
		CROSS JOIN LATERAL (SELECT y.accumulators FROM {s}.person_years y
			WHERE y.person_id = u.person_id AND y.year = u.year LIMIT 1) y`
	groupBudgetsSQL = `SELECT u.institution_id, u.year, b.used
		FROM unnest($1::text[], $2::int[]) AS u(institution_id, year)
		CROSS JOIN LATERAL (SELECT coalesce(sum(b.used), 0) AS used FROM {s}.budget_usage b
			WHERE b.institution_id = u.institution_id AND b.year = u.year) b`
	groupFilingsSQL = `SELECT filing_id, person_id, region, valid_from, valid_to FROM {s}.cross_region_filings
		WHERE person_id = ANY($1::text[]) ORDER BY person_id, valid_from, filing_id COLLATE "C"`
	groupPutYearsSQL = `INSERT INTO {s}.person_years (person_id, year, accumulators)
		SELECT person_id, year, accumulators::json FROM unnest($1::text[], $2::int[], $3::text[]) AS u(person_id, year, accumulators)
		ON CONFLICT (person_id, year) DO UPDATE SET accumulators = excluded.accumulators`
	// groupSetBalancesSQL sets the balances computed under the locks.
	// The persons are also selected by `= ANY($1)`, an index condition:
	// joined to the unnest alone, a plan made while the table was
	// nearly empty read persons whole (a hash join, or with sequential
	// scans off a full scan of the primary key).
	groupSetBalancesSQL = `UPDATE {s}.persons p SET account_balance = u.balance::numeric
		FROM unnest($1::text[], $2::text[]) AS u(person_id, balance)
		WHERE p.person_id = ANY($1::text[]) AND p.person_id = u.person_id`
	// groupInsertSQL inserts the settlements and their idempotency keys:
	// a key taken meanwhile fails the whole group (unique violation), which
	// is then settled claim by claim.
	groupInsertSQL = `WITH s AS (
			INSERT INTO {s}.settlements (settlement_id, institution_id, request_id, person_id, visit_type, settle_date, year,
				state, fingerprint, claim, result, total, basic_fund, fund_total, account, settled_at,
				policy_region, policy_scheme, drg_code, personal_total)
			SELECT id, inst, req, person, vt, sd::date, yr, st, fp, claim::json, result::json,
				total::numeric, basic::numeric, fund::numeric, account::numeric, at, region, scheme, drg, personal::numeric
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int2[], $6::text[], $7::int[],
				$8::int2[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
				$16::timestamptz[], $17::text[], $18::int2[], $19::text[], $20::text[])
				AS u(id, inst, req, person, vt, sd, yr, st, fp, claim, result, total, basic, fund, account, at, region, scheme, drg, personal)
			RETURNING settlement_id, institution_id, request_id, fingerprint)
		INSERT INTO {s}.request_keys (institution_id, request_id, fingerprint, settlement_id)
		SELECT institution_id, request_id, fingerprint, settlement_id FROM s`
)

// settleCall is one Settle call waiting for, or in, a group.
type settleCall struct {
	queuedCall
	ctx     context.Context
	claim   engine.Claim
	compute store.ComputeFunc
	// mark names the visit a SettleVisit call settles (nil for Settle).
	mark *store.VisitMark
	// done receives the answer once (buffered: the caller may have left).
	done chan settleAnswer
}

// settleAnswer is a call's outcome in its group; alone means the group
// failed as a whole and the call is to be settled by itself.
type settleAnswer struct {
	st    engine.Settlement
	err   error
	alone bool
}

// settleGrouped queues a Settle call for the next group and waits for its
// answer. A caller that gives up before a group takes its call leaves
// without effect; once taken, the group decides, and a caller that gives up
// then gets its context's error while the settlement may still commit (as
// a single transaction's COMMIT may race a cancellation): a retry with the
// same request id tells.
func (s *Store) settleGrouped(ctx context.Context, claim engine.Claim, compute store.ComputeFunc, mark *store.VisitMark) (engine.Settlement, error) {
	if err := ctx.Err(); err != nil {
		return engine.Settlement{}, err
	}
	c := &settleCall{ctx: ctx, claim: claim, compute: compute, mark: mark, done: make(chan settleAnswer, 1)}
	s.settles.add(c)
	select {
	case a := <-c.done:
		if a.alone {
			return s.settleOneMarked(ctx, claim, compute, mark)
		}
		return a.st, a.err
	case <-ctx.Done():
		if c.leave() {
			return engine.Settlement{}, ctx.Err()
		}
		select {
		case a := <-c.done:
			if !a.alone {
				return a.st, a.err
			}
		default:
		}
		return engine.Settlement{}, ctx.Err()
	}
}

// settleGroup settles a group taken from the queue and answers each call.
// A lone call is a group of one: the runner stays busy with it, and the
// calls arriving meanwhile form the next group; like any group it waits
// for a lock no longer than groupLockTimeoutSQL says. Every call of a
// group whose transaction fails is handed back to its caller, to settle by
// itself (settleOne) on its own goroutine and context.
func (s *Store) settleGroup(calls []*settleCall) {
	defer func() {
		// A bug of the group's own code must not take the server down
		// with every caller of the group: they settle by themselves (a
		// group that did commit is then found by its request keys).
		if r := recover(); r != nil {
			s.log.Error("group commit panicked: settling its claims one by one", "claims", len(calls), "panic", r)
			for _, c := range calls {
				select {
				case c.done <- settleAnswer{alone: true}:
				default:
				}
			}
		}
	}()
	ctx, cancel := groupContext(calls, func(c *settleCall) context.Context { return c.ctx })
	defer cancel()
	answers, err := s.settleTogether(ctx, calls)
	s.groupStats.groups.Add(1)
	s.groupStats.grouped.Add(int64(len(calls)))
	if err != nil {
		s.groupStats.failed.Add(1)
		s.log.Warn("group commit failed: settling its claims one by one", "claims", len(calls), "err", err)
	}
	for i, c := range calls {
		if err != nil {
			c.done <- settleAnswer{alone: true}
			continue
		}
		c.done <- answers[i]
	}
}

// groupStats count the groups that ran, the calls in them and the groups
// that failed as a whole.
type groupStats struct{ groups, grouped, failed atomic.Int64 }

// groupKey names a request key, a person-year or an institution-year.
type groupKey struct {
	id   string
	sub  string
	year int
}

// groupState is what a group read under its persons' locks, updated by
// each claim computed.
type groupState struct {
	persons  map[string]engine.Person
	keys     map[groupKey]recordedKey
	docs     map[groupKey][]byte
	accs     map[groupKey]engine.Accumulators
	budgets  map[groupKey]engine.Money
	filings  map[string][]engine.Filing
	read     map[string]engine.Person        // persons as read, before the group
	reread   map[groupKey]bool               // institution-years with a budget
	balances map[string]bool                 // persons whose balance changed
	years    []groupKey                      // person-years changed, in first-change order
	added    map[groupKey]engine.Money       // budget usage added, by institution-year
	taken    map[groupKey]*engine.Settlement // request keys taken in the group
	visits   map[string]store.Visit          // the marked visits, as locked and then settled in the group
}

// settleTogether runs a group's transaction and returns each call's answer;
// an error means the transaction failed as a whole and nothing committed.
func (s *Store) settleTogether(ctx context.Context, calls []*settleCall) ([]settleAnswer, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, translate(err)
	}
	defer endTx(ctx, conn)
	gs, err := s.readGroup(ctx, conn, calls)
	if err != nil {
		return nil, err
	}
	answers := make([]settleAnswer, len(calls))
	var settled []int // calls settled here, in order
	var replays []int // calls answered by a recorded settlement, read below
	replayOf := make([]string, len(calls))
	claimDocs := make([][]byte, len(calls)) // the settled claims' documents
	for i, c := range calls {
		claim := c.claim
		k := groupKey{id: claim.InstitutionID, sub: claim.RequestID}
		p, ok := gs.persons[claim.PersonID]
		switch {
		case !ok:
			answers[i].err = fmt.Errorf("person %q: %w", claim.PersonID, store.ErrNotFound)
			continue
		case gs.keys[k].found:
			key := gs.keys[k]
			if !claim.SameRequest(key.fingerprint) {
				answers[i].err = conflict(claim)
				continue
			}
			replays, replayOf[i] = append(replays, i), key.settlementID
			continue
		case gs.taken[k] != nil:
			st := gs.taken[k]
			if !claim.SameRequest(st.Fingerprint) {
				answers[i].err = conflict(claim)
				continue
			}
			replays, replayOf[i] = append(replays, i), st.ID
			continue
		}
		if c.mark != nil {
			if err := gs.markable(*c.mark); err != nil {
				answers[i].err = err
				continue
			}
		}
		st, doc, err := s.settleInGroup(gs, claim, p, c.compute)
		if err != nil {
			answers[i].err = err
			continue
		}
		if c.mark != nil {
			// Settled as of the insert (SettledAt is set then): a later
			// claim of the group marking this visit is refused.
			v, _ := gs.visits[c.mark.VisitID].SettledByMark(*c.mark, st.ID, time.Time{})
			gs.visits[v.ID] = v
		}
		gs.taken[k] = &st
		answers[i].st, claimDocs[i] = st, doc
		settled = append(settled, i)
	}
	b, used, err := s.writeGroup(ctx, conn, gs)
	if err != nil {
		return nil, err
	}
	budgetStatuses(answers, settled, used)
	rows := &settlementRows{}
	var marks visitMarks
	for _, i := range settled {
		at := s.now().UTC().Truncate(time.Microsecond)
		if err := rows.add(answers[i].st, claimDocs[i], gs.read[calls[i].claim.PersonID], at); err != nil {
			return nil, err
		}
		if m := calls[i].mark; m != nil {
			v := gs.visits[m.VisitID]
			v.SettledAt = m.SettledAt(at)
			marks.add(v)
		}
	}
	if s.failGroup != nil {
		if err := s.failGroup(); err != nil {
			return nil, err
		}
	}
	s.queueInsert(b, rows)
	marks.queue(s, b)
	if len(replays) > 0 {
		// A replay reads its settlement back, which may be one this
		// group inserts: the inserts go first, and the commit after the
		// reads (a replay within a burst is rare).
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			return nil, translate(err)
		}
		b = &pgx.Batch{}
		for _, i := range replays {
			st, err := s.getSettlement(ctx, conn, replayOf[i])
			if err != nil && !errors.Is(err, engine.ErrInvariant) {
				return nil, err
			}
			answers[i] = settleAnswer{st: st, err: err}
		}
	}
	if s.commitProbe != "" {
		b.Queue(s.commitProbe)
	}
	queueCommit(b)
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, translate(err)
	}
	return answers, nil
}

// markable checks that the visit mark names, as the group locked it and
// its earlier claims left it, may be settled for mark.
func (gs *groupState) markable(mark store.VisitMark) error {
	v, ok := gs.visits[mark.VisitID]
	if !ok {
		return noVisit(mark.VisitID)
	}
	_, err := v.SettledByMark(mark, "", time.Time{})
	return err
}

// conflict is the error of a claim whose request id is another request's.
func conflict(claim engine.Claim) error {
	return fmt.Errorf("request id %q of institution %q: %w", claim.RequestID, claim.InstitutionID, store.ErrConflict)
}

// settleInGroup computes one claim against the group's state and applies
// its changes to the state. On error the state is as it was. The budget
// status is set once the group's usage is read back (budgetStatuses). It
// also returns the settled claim's stored document.
func (s *Store) settleInGroup(gs *groupState, claim engine.Claim, p engine.Person, compute store.ComputeFunc) (engine.Settlement, []byte, error) {
	year := claim.Year()
	py := groupKey{id: claim.PersonID, year: year}
	iy := groupKey{id: claim.InstitutionID, year: year}
	acc, err := gs.accumulators(s, py)
	if err != nil {
		return engine.Settlement{}, nil, err
	}
	res, err := safeCompute(compute, store.PersonYear{Person: p, Accumulators: acc, BudgetUsed: gs.budgets[iy], Filings: gs.filings[claim.PersonID]})
	if err != nil {
		return engine.Settlement{}, nil, err
	}
	settled := claim.Decided(res.CrossRegion)
	// What cannot be stored fails this claim alone, before it changes the
	// group's state.
	claimDoc, err := encodeClaim(settled)
	if err != nil {
		return engine.Settlement{}, nil, err
	}
	_, scheme := policyOf(res, p)
	if _, err := settlementCodes(settled.VisitType, engine.StateSettled, scheme); err != nil {
		return engine.Settlement{}, nil, err
	}
	ch := engine.SettleChanges(settled, res)
	st := engine.Settlement{ID: store.NewSettlementID(), Claim: settled, Fingerprint: settled.Fingerprint(), State: engine.StateSettled, Result: res}
	if _, changed := gs.accs[py]; !changed {
		gs.years = append(gs.years, py)
	}
	gs.accs[py] = ch.ApplyAccumulators(acc)
	if !ch.Account.IsZero() {
		p.AccountBalance = ch.ApplyAccount(p.AccountBalance)
		gs.persons[claim.PersonID] = p
		gs.balances[claim.PersonID] = true
	}
	if !ch.Budget.IsZero() {
		gs.budgets[iy] = ch.ApplyBudget(gs.budgets[iy])
		gs.added[iy] = ch.ApplyBudget(gs.added[iy])
	}
	if res.BudgetLimit != nil {
		gs.reread[iy] = true
	}
	return st, claimDoc, nil
}

// budgetStatuses sets the budget status of each settlement of the group
// with a budget, from the usage read back after the group's writes (used,
// by institution-year): the last settlement of an institution-year reports
// it, each one before it that less the settlements after it. As for a
// settlement by itself, the usage counts every settlement committed before
// this one's transaction read it back.
func budgetStatuses(answers []settleAnswer, settled []int, used map[groupKey]engine.Money) {
	for j := len(settled) - 1; j >= 0; j-- {
		st := &answers[settled[j]].st
		iy := groupKey{id: st.Claim.InstitutionID, year: st.Claim.Year()}
		u, ok := used[iy]
		if !ok {
			continue
		}
		if res := &st.Result; res.BudgetLimit != nil {
			bs := engine.NewBudgetStatus(iy.year, *res.BudgetLimit, u, res.WarnRatio)
			res.Budget = &bs
		}
		used[iy] = engine.ReverseChanges(*st).ApplyBudget(u)
	}
}

// safeCompute calls compute, turning a panic into an error of this claim
// alone (it runs on the group's goroutine, not the caller's).
func safeCompute(compute store.ComputeFunc, py store.PersonYear) (res engine.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("compute panicked: %v: %w", r, engine.ErrInvariant)
		}
	}()
	return compute(py)
}

// accumulators are the person-year's accumulators as the group left them:
// decoded from the row read, or new.
func (gs *groupState) accumulators(s *Store, py groupKey) (engine.Accumulators, error) {
	if acc, ok := gs.accs[py]; ok {
		return acc, nil
	}
	doc, ok := gs.docs[py]
	if !ok {
		return engine.NewAccumulators(py.id, py.year), nil
	}
	acc, err := s.accs.decode(py.id, py.year, doc)
	if err != nil {
		return engine.Accumulators{}, s.corrupt(fmt.Sprintf("accumulators of %q/%d", py.id, py.year), err)
	}
	return acc, nil
}

// readGroup begins the group's transaction on conn, locks the group's
// persons and reads everything their claims read, in one round trip.
func (s *Store) readGroup(ctx context.Context, conn *pgxpool.Conn, calls []*settleCall) (*groupState, error) {
	gs := &groupState{
		persons: map[string]engine.Person{}, keys: map[groupKey]recordedKey{}, docs: map[groupKey][]byte{},
		accs: map[groupKey]engine.Accumulators{}, budgets: map[groupKey]engine.Money{}, filings: map[string][]engine.Filing{},
		balances: map[string]bool{}, added: map[groupKey]engine.Money{}, taken: map[groupKey]*engine.Settlement{},
		read: map[string]engine.Person{}, reread: map[groupKey]bool{}, visits: map[string]store.Visit{},
	}
	var persons, keyInsts, keyReqs, yearPersons, budgetInsts, visits []string
	var years, budgetYears []int32
	seen := map[groupKey]bool{}
	once := func(k groupKey) bool {
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	for _, c := range calls {
		cl := c.claim
		y := int32(cl.Year())
		if once(groupKey{sub: "p", id: cl.PersonID}) {
			persons = append(persons, cl.PersonID)
		}
		if once(groupKey{sub: "k" + cl.InstitutionID, id: cl.RequestID}) {
			keyInsts, keyReqs = append(keyInsts, cl.InstitutionID), append(keyReqs, cl.RequestID)
		}
		if once(groupKey{sub: "y", id: cl.PersonID, year: int(y)}) {
			yearPersons, years = append(yearPersons, cl.PersonID), append(years, y)
		}
		if once(groupKey{sub: "b", id: cl.InstitutionID, year: int(y)}) {
			budgetInsts, budgetYears = append(budgetInsts, cl.InstitutionID), append(budgetYears, y)
		}
		// A visit id that cannot be stored names no visit: not locked,
		// so not found.
		if c.mark != nil && store.Storable(c.mark.VisitID) && once(groupKey{sub: "v", id: c.mark.VisitID}) {
			visits = append(visits, c.mark.VisitID)
		}
	}
	b := &pgx.Batch{}
	b.Queue(beginSQL) // first: the settings below are local to the transaction
	b.Queue(groupLockTimeoutSQL)
	b.Queue(s.sql(lockPersonsSQL), persons).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			p, err := scanPersonRow(rows)
			if err != nil {
				return err
			}
			gs.persons[p.ID], gs.read[p.ID] = p, p
		}
		return rows.Err()
	})
	if len(visits) > 0 {
		// After the persons: every transaction that locks both locks a
		// person first (lockMarkedVisitsSQL).
		b.Queue(s.sql(lockMarkedVisitsSQL), visits).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				v, err := scanVisit(rows)
				if err != nil {
					return err
				}
				gs.visits[v.ID] = v
			}
			return rows.Err()
		})
	}
	b.Queue(s.sql(groupKeysSQL), keyInsts, keyReqs).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var inst, req string
			var key recordedKey
			if err := rows.Scan(&inst, &req, &key.fingerprint, &key.settlementID); err != nil {
				return err
			}
			key.found = true
			gs.keys[groupKey{id: inst, sub: req}] = key
		}
		return rows.Err()
	})
	b.Queue(s.sql(groupYearsSQL), yearPersons, years).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var k groupKey
			var doc []byte
			if err := rows.Scan(&k.id, &k.year, &doc); err != nil {
				return err
			}
			gs.docs[k] = doc
		}
		return rows.Err()
	})
	b.Queue(s.sql(groupBudgetsSQL), budgetInsts, budgetYears).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var k groupKey
			var used engine.Money
			if err := rows.Scan(&k.id, &k.year, &used); err != nil {
				return err
			}
			gs.budgets[k] = used
		}
		return rows.Err()
	})
	b.Queue(s.sql(groupFilingsSQL), persons).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var f engine.Filing
			var from, to time.Time
			if err := rows.Scan(&f.ID, &f.PersonID, &f.Region, &from, &to); err != nil {
				return err
			}
			f.ValidFrom, f.ValidTo = dateOf(from), dateOf(to)
			gs.filings[f.PersonID] = append(gs.filings[f.PersonID], f)
		}
		return rows.Err()
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, translate(err)
	}
	return gs, nil
}

// writeGroup queues in a batch what the group's settlements changed: the
// person-years, the balances and the budget usage (one shard per
// institution-year, as addBudget picks). When the group has
// institution-years with a budget, it sends the batch with a read-back
// of their usage (one round trip: the settlements' results carry it) and
// returns a new, empty batch; else it returns the batch unsent, for the
// settlements' insert and the COMMIT to follow the writes in it (a round
// trip fewer: in a pipeline a failed write skips everything after it, the
// COMMIT too, so the transaction still commits all or nothing).
func (s *Store) writeGroup(ctx context.Context, conn *pgxpool.Conn, gs *groupState) (*pgx.Batch, map[groupKey]engine.Money, error) {
	used := map[groupKey]engine.Money{}
	b := &pgx.Batch{}
	if len(gs.years) == 0 {
		return b, used, nil
	}
	ids, yrs, docs := make([]string, 0, len(gs.years)), make([]int32, 0, len(gs.years)), make([]string, 0, len(gs.years))
	for _, py := range gs.years {
		doc, err := s.accs.encode(gs.accs[py])
		if err != nil {
			return nil, nil, err
		}
		ids, yrs, docs = append(ids, py.id), append(yrs, int32(py.year)), append(docs, string(doc))
	}
	b.Queue(s.sql(groupPutYearsSQL), ids, yrs, docs)
	if len(gs.balances) > 0 {
		var persons, balances []string
		for id := range gs.balances {
			persons, balances = append(persons, id), append(balances, gs.persons[id].AccountBalance.String())
		}
		b.Queue(s.sql(groupSetBalancesSQL), persons, balances)
	}
	for iy, add := range gs.added {
		if !add.IsZero() {
			b.Queue(s.q.addBudget, iy.id, iy.year, add)
		}
	}
	if len(gs.reread) == 0 {
		return b, used, nil
	}
	var insts []string
	var years []int32
	for iy := range gs.reread {
		insts, years = append(insts, iy.id), append(years, int32(iy.year))
	}
	b.Queue(s.sql(groupBudgetsSQL), insts, years).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var k groupKey
			var u engine.Money
			if err := rows.Scan(&k.id, &k.year, &u); err != nil {
				return err
			}
			used[k] = u
		}
		return rows.Err()
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, translate(err)
	}
	return &pgx.Batch{}, used, nil
}

// queueInsert queues the insert of the group's settlements with their
// keys, if any.
func (s *Store) queueInsert(b *pgx.Batch, r *settlementRows) {
	if r.n == 0 {
		return
	}
	b.Queue(s.sql(groupInsertSQL), r.id, r.institution, r.request, r.person, r.visitType, r.settleDate, r.year,
		r.state, r.fingerprint, r.claim, r.result, r.total, r.basicFund, r.fundTotal, r.account, r.settledAt,
		r.region, r.scheme, r.drg, r.personalTotal)
}

// settlementRows are the columns of the settlements a group inserts.
type settlementRows struct {
	n                                    int
	id, institution, request, person     []string
	settleDate, fingerprint, region, drg []string
	visitType, state, scheme             []int16
	year                                 []int32
	claim, result                        []string
	// The amounts as numeric text: pgx encodes a []string without
	// reflection.
	total, basicFund, fundTotal, account []string
	personalTotal                        []string
	settledAt                            []time.Time
}

// add appends the row of settlement st, whose claim's document is
// claimDoc, of person p (as the group read it), settled at at; on error
// nothing is appended.
func (r *settlementRows) add(st engine.Settlement, claimDoc []byte, p engine.Person, at time.Time) error {
	claim, res := st.Claim, st.Result
	resultDoc, err := encodeResult(res)
	if err != nil {
		return err
	}
	region, scheme := policyOf(res, p)
	cols, err := settlementCodes(claim.VisitType, engine.StateSettled, scheme)
	if err != nil {
		return err
	}
	b := res.Breakdown
	r.n++
	r.id, r.institution, r.request, r.person = append(r.id, st.ID), append(r.institution, claim.InstitutionID),
		append(r.request, claim.RequestID), append(r.person, claim.PersonID)
	r.settleDate, r.fingerprint, r.region, r.drg = append(r.settleDate, claim.SettleDate.String()), append(r.fingerprint, st.Fingerprint),
		append(r.region, region), append(r.drg, claim.DRGCode)
	r.visitType, r.state, r.scheme = append(r.visitType, cols.visitType), append(r.state, cols.state), append(r.scheme, cols.scheme)
	r.year = append(r.year, int32(claim.Year()))
	r.claim, r.result = append(r.claim, string(claimDoc)), append(r.result, string(resultDoc))
	r.total, r.basicFund, r.fundTotal, r.account = append(r.total, b.Total.String()), append(r.basicFund, b.BasicFund.String()),
		append(r.fundTotal, b.FundTotal.String()), append(r.account, b.Account.String())
	r.personalTotal = append(r.personalTotal, b.PersonalTotal.String())
	r.settledAt = append(r.settledAt, at)
	return nil
}
