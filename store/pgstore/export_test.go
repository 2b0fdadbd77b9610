package pgstore

import (
	"context"
	"sync"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// GroupStats reports how many groups ran, how many settlements they held
// and how many failed as a whole.
func GroupStats(s *Store) (groups, grouped, failed int64) {
	return s.groupStats.groups.Load(), s.groupStats.grouped.Load(), s.groupStats.failed.Load()
}

// FailGroups makes every group transaction fail after its writes with
// f's error (nil f: no more).
func FailGroups(s *Store, f func() error) { s.failGroup = f }

// ProbeGroupCommits queues sql in every group's last pipelined batch,
// just before its COMMIT ("": no more).
func ProbeGroupCommits(s *Store, sql string) { s.commitProbe = sql }

// ConnState takes a connection from the store's pool and reports its
// backend's process id, its transaction status ('I' when idle) and its
// lock_timeout.
func ConnState(ctx context.Context, s *Store) (pid uint32, txStatus byte, lockTimeout string, err error) {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, 0, "", err
	}
	defer c.Release()
	pid, txStatus = c.Conn().PgConn().PID(), c.Conn().PgConn().TxStatus()
	err = c.QueryRow(ctx, "SHOW lock_timeout").Scan(&lockTimeout)
	return pid, txStatus, lockTimeout, err
}

// SettleAsGroup settles the claims as one group, in order, the way the
// queue would hand them over, and answers each as its caller would.
func SettleAsGroup(ctx context.Context, s *Store, claims []engine.Claim, computes []store.ComputeFunc) ([]engine.Settlement, []error) {
	calls := make([]*settleCall, len(claims))
	for i := range claims {
		calls[i] = &settleCall{ctx: ctx, claim: claims[i], compute: computes[i], done: make(chan settleAnswer, 1)}
		calls[i].take()
	}
	s.settleGroup(calls)
	sts, errs := make([]engine.Settlement, len(claims)), make([]error, len(claims))
	var wg sync.WaitGroup
	for i, c := range calls {
		a := <-c.done
		if !a.alone {
			sts[i], errs[i] = a.st, a.err
			continue
		}
		// As the callers would: each on its own goroutine.
		wg.Add(1)
		go func() {
			defer wg.Done()
			sts[i], errs[i] = s.settleOne(ctx, claims[i], computes[i])
		}()
	}
	wg.Wait()
	return sts, errs
}

// AppendAsGroup appends the events as one group, in order, and answers
// each as its caller would.
func AppendAsGroup(ctx context.Context, s *Store, events []store.AuditEvent) ([]int64, []error) {
	calls := make([]*auditCall, len(events))
	for i := range events {
		calls[i] = &auditCall{ctx: ctx, e: events[i], done: make(chan auditAnswer, 1)}
		calls[i].take()
	}
	s.appendGroup(calls)
	ids, errs := make([]int64, len(events)), make([]error, len(events))
	for i, c := range calls {
		a := <-c.done
		if a.alone {
			a.id, a.err = s.appendOne(ctx, events[i])
		}
		ids[i], errs[i] = a.id, a.err
	}
	return ids, errs
}
