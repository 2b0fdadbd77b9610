package pgstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/medsettle/medsettle/store"
)

// Fee-detail uploads are group-committed as settlements are (DECISIONS.md
// "Group commit on PostgreSQL"): the PutFeeDetails calls arriving together
// share one transaction, and so one WAL flush, in two round trips (a
// pipelined transaction, pipelined_tx.go): one batch that begins it,
// locks every visit of the group in visit id byte order, reading their
// row and live counts, and reads the live lines of the SNs uploaded; each
// upload checked in Go, in arrival order, against the state its predecessors in the group
// left (a visit uploaded to twice: the second sees the first's lines); one
// batch that inserts the surviving uploads' lines and counts them on
// their visits in one statement (a multi-row INSERT and an UPDATE), and
// commits. An upload that
// fails (ErrNotFound, ErrVisitNotOpen, a *DetailConflictError, no room)
// gets its own error and is left out, its neighbours untouched; a group
// whose transaction fails as a whole is uploaded again call by call
// (putDetailsOne), so that no upload fails its neighbours.

const (
	// lockVisitsSQL locks a group's visits in visit id byte order:
	// LockRows runs above the sort, so two groups never wait for each
	// other in a cycle. It reads their row and live counts (live_rows,
	// kept under this lock: lockVisitDetailsSQL).
	lockVisitsSQL = `SELECT ` + visitColumns + `, detail_rows, live_rows FROM {s}.visits
		WHERE visit_id = ANY($1::text[]) ORDER BY visit_id COLLATE "C" FOR UPDATE`
	// groupLiveBySNSQL reads the live lines of the (visit, SN) pairs
	// given, one index probe each.
	groupLiveBySNSQL = `SELECT u.visit_id, d.sn, d.batch, d.code, d.name, d.quantity, d.unit_price, d.amount, d.fee_time, d.med_type
		FROM unnest($1::text[], $2::text[]) AS u(visit_id, sn)
		CROSS JOIN LATERAL (SELECT ` + detailColumns + ` FROM {s}.fee_details d
			WHERE d.visit_id = u.visit_id AND d.sn = u.sn AND d.cancelled_at IS NULL LIMIT 1) d`
	// groupPutDetailsSQL adds a group's lines, each with its visit and
	// seq (figures as in insertDetailsSQL), and adds to each visit, in
	// the same statement, the lines the group gave it (detail_rows,
	// live_rows) and the uploads that changed it (details_version). The
	// visits are also selected by `= ANY($13)`, an index condition (as
	// groupSetBalancesSQL's persons). The lines' foreign key is checked
	// at the statement's end, on the visits as updated (the key is not
	// changed).
	groupPutDetailsSQL = `WITH ins AS (INSERT INTO {s}.fee_details (visit_id, seq, ` + detailColumns + `, uploaded_at)
		SELECT u.visit_id, u.seq, u.sn, u.batch, u.code, u.name, u.q * 0.0001, u.p * 0.000001, u.a * 0.01, u.fee_time, u.med_type, $1
		FROM unnest($2::text[], $3::int4[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[], $9::int8[], $10::int8[],
			$11::text[], $12::text[])
			AS u(visit_id, seq, sn, batch, code, name, q, p, a, fee_time, med_type))
		UPDATE {s}.visits v SET detail_rows = v.detail_rows + c.n, live_rows = v.live_rows + c.n,
			details_version = v.details_version + c.k, updated_at = $1
		FROM unnest($13::text[], $14::int4[], $15::int8[]) AS c(visit_id, n, k)
		WHERE v.visit_id = ANY($13::text[]) AND v.visit_id = c.visit_id`
)

// maxGroupLines bounds the lines one group transaction inserts: a group
// of many full uploads is split into transactions of at most this many
// lines each (an upload is never split). 64 uploads of a few dozen
// lines, the busy case, fit in one.
const maxGroupLines = 4 * store.MaxVisitDetails

// detailGroup is the group commit of PutFeeDetails.
type detailGroup struct {
	// q queues PutFeeDetails calls; nil when group commit is off.
	q     *groupQueue[*detailsCall]
	stats groupStats
	// fail, set by tests, fails a group's transaction after its writes
	// are queued, when it returns an error.
	fail func() error
}

// detailsCall is one PutFeeDetails call waiting for, or in, a group.
type detailsCall struct {
	queuedCall
	ctx     context.Context
	visitID string
	lines   []store.FeeDetail
	// done receives the answer once (buffered: the caller may have left).
	done chan detailsAnswer
}

// detailsAnswer is a call's outcome in its group; alone means the group
// failed as a whole and the call is to be uploaded by itself.
type detailsAnswer struct {
	err   error
	alone bool
}

// putDetailsGrouped queues an upload, already checked by CheckFeeDetails,
// for the next group and waits for its answer. As with settlements, a
// caller that gives up before a group takes its call leaves without
// effect; after, the group decides, and the caller gets its context's
// error while the upload may still commit (as a single transaction's
// COMMIT may race a cancellation): a retry, a no-op if it did, tells.
func (s *Store) putDetailsGrouped(ctx context.Context, visitID string, lines []store.FeeDetail) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("visit %q: %w", visitID, err)
	}
	c := &detailsCall{ctx: ctx, visitID: visitID, lines: lines, done: make(chan detailsAnswer, 1)}
	s.details.q.add(c)
	select {
	case a := <-c.done:
		if a.alone {
			return s.putDetailsOne(ctx, visitID, lines)
		}
		return a.err
	case <-ctx.Done():
		if !c.leave() {
			select {
			case a := <-c.done:
				if !a.alone {
					return a.err
				}
			default:
			}
		}
		return fmt.Errorf("visit %q: %w", visitID, ctx.Err())
	}
}

// putDetailsGroup uploads a group taken from the queue, in transactions of
// at most maxGroupLines lines, and answers each call. Every call of a
// transaction that fails as a whole is handed back to its caller, to
// upload by itself on its own goroutine and context.
func (s *Store) putDetailsGroup(calls []*detailsCall) {
	defer func() {
		// A bug of the group's own code must not take the server down
		// with every caller of the group: they upload by themselves (an
		// upload that did commit is then a no-op retry).
		if r := recover(); r != nil {
			s.log.Error("fee-detail group commit panicked: uploading one by one", "uploads", len(calls), "panic", r)
			for _, c := range calls {
				select {
				case c.done <- detailsAnswer{alone: true}:
				default:
				}
			}
		}
	}()
	for len(calls) > 0 {
		n, lines := 1, len(calls[0].lines)
		for n < len(calls) && lines+len(calls[n].lines) <= maxGroupLines {
			lines += len(calls[n].lines)
			n++
		}
		s.putDetailsPart(calls[:n])
		calls = calls[n:]
	}
}

// putDetailsPart runs one transaction of a group and answers its calls.
func (s *Store) putDetailsPart(calls []*detailsCall) {
	ctx, cancel := groupContext(calls, func(c *detailsCall) context.Context { return c.ctx })
	defer cancel()
	errs, err := s.putDetailsTogether(ctx, calls)
	s.details.stats.groups.Add(1)
	s.details.stats.grouped.Add(int64(len(calls)))
	if err != nil {
		s.details.stats.failed.Add(1)
		s.log.Warn("fee-detail group commit failed: uploading one by one", "uploads", len(calls), "err", err)
	}
	for i, c := range calls {
		if err != nil {
			c.done <- detailsAnswer{alone: true}
			continue
		}
		c.done <- detailsAnswer{err: errs[i]}
	}
}

// visitDetails is a visit as a group found it, updated by each upload
// the group accepts.
type visitDetails struct {
	v          store.Visit
	rows, live int
	// lines are its live lines of the SNs the group uploads.
	lines map[string]store.FeeDetail
	// added counts the lines the group gives it, changes the uploads that
	// added some.
	added, changes int
}

// putDetailsTogether runs a group's transaction and returns each call's
// error; an error of its own means the transaction failed as a whole and
// nothing committed.
func (s *Store) putDetailsTogether(ctx context.Context, calls []*detailsCall) ([]error, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, translate(err)
	}
	defer endTx(ctx, conn)
	visits, ids, err := s.readDetailsGroup(ctx, conn, calls)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(calls))
	var fresh []store.FeeDetail // in arrival order
	var seqs []int32
	for i, c := range calls {
		vd := visits[c.visitID]
		if vd == nil {
			errs[i] = noVisit(c.visitID)
			continue
		}
		if err := vd.v.CheckOpen(); err != nil {
			errs[i] = err
			continue
		}
		add, err := store.NewFeeDetails(c.visitID, vd.lines, c.lines)
		if err != nil {
			errs[i] = err
			continue
		}
		if err := store.CheckDetailRoom(c.visitID, vd.live, vd.rows, len(add)); err != nil {
			errs[i] = err
			continue
		}
		for _, d := range add {
			vd.rows++
			vd.live++
			vd.lines[d.SN] = d
			fresh, seqs = append(fresh, d), append(seqs, int32(vd.rows))
		}
		if len(add) > 0 {
			vd.added += len(add)
			vd.changes++
		}
	}
	b := &pgx.Batch{}
	if len(fresh) > 0 {
		now := s.now()
		cols := detailArrays(fresh)
		visitIDs := make([]string, len(fresh))
		for i, d := range fresh {
			visitIDs[i] = d.VisitID
		}
		var changed []string
		var added []int32
		var changes []int64
		for _, id := range ids {
			if vd := visits[id]; vd != nil && vd.changes > 0 {
				changed, added, changes = append(changed, id), append(added, int32(vd.added)), append(changes, int64(vd.changes))
			}
		}
		b.Queue(s.sql(groupPutDetailsSQL), now, visitIDs, seqs, cols.sn, cols.batch, cols.code, cols.name,
			cols.quantity, cols.price, cols.amount, cols.feeTime, cols.medType, changed, added, changes)
	}
	if s.details.fail != nil {
		if err := s.details.fail(); err != nil {
			return nil, err
		}
	}
	queueCommit(b)
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, translate(err)
	}
	return errs, nil
}

// readDetailsGroup begins the group's transaction on conn, locks the
// group's visits with their row and live counts and reads the live lines
// of the SNs uploaded, in one round trip. It returns the visits found, by id,
// and every id the group names, sorted.
func (s *Store) readDetailsGroup(ctx context.Context, conn *pgxpool.Conn, calls []*detailsCall) (map[string]*visitDetails, []string, error) {
	type pair struct{ visit, sn string }
	var ids []string
	var pairs []pair
	seen := map[pair]bool{}
	for _, c := range calls {
		if !seen[pair{visit: c.visitID}] {
			seen[pair{visit: c.visitID}] = true
			ids = append(ids, c.visitID)
		}
		for _, d := range c.lines {
			// A line's SN is never "" (CheckFeeDetails): the visit's key
			// above cannot collide with a line's.
			p := pair{c.visitID, d.SN}
			if !seen[p] {
				seen[p] = true
				pairs = append(pairs, p)
			}
		}
	}
	slices.Sort(ids)
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Or(cmp.Compare(a.visit, b.visit), cmp.Compare(a.sn, b.sn)) })
	pairVisits, pairSNs := make([]string, len(pairs)), make([]string, len(pairs))
	for i, p := range pairs {
		pairVisits[i], pairSNs[i] = p.visit, p.sn
	}
	visits := make(map[string]*visitDetails, len(ids))
	b := &pgx.Batch{}
	b.Queue(beginSQL) // first: the settings below are local to the transaction
	b.Queue(groupLockTimeoutSQL)
	b.Queue(s.sql(lockVisitsSQL), ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			vd := &visitDetails{lines: map[string]store.FeeDetail{}}
			v, err := scanVisit(rows, &vd.rows, &vd.live)
			if err != nil {
				return err
			}
			vd.v = v
			visits[v.ID] = vd
		}
		return rows.Err()
	})
	b.Queue(s.sql(groupLiveBySNSQL), pairVisits, pairSNs).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var d store.FeeDetail
			if err := rows.Scan(&d.VisitID, &d.SN, &d.Batch, &d.Code, &d.Name, &d.Quantity, &d.UnitPrice, &d.Amount,
				&d.FeeTime, &d.MedType); err != nil {
				return err
			}
			if vd := visits[d.VisitID]; vd != nil {
				vd.lines[d.SN] = d
			}
		}
		return rows.Err()
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, translate(err)
	}
	return visits, ids, nil
}
