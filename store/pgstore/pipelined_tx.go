package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A pipelined transaction saves the round trips of BEGIN and COMMIT: BEGIN
// is the first statement of its first pipelined batch and COMMIT the last
// of its last one (a group: three round trips instead of five; a
// snapshot: one instead of three). In a pipeline PostgreSQL skips every
// statement after a failed one up to the batch's end, so a COMMIT queued
// behind a failed write never runs: the transaction is left failed, and
// endTx rolls it back.

const (
	// beginSQL opens a group's transaction (READ COMMITTED, as Begin).
	beginSQL = "begin"
	// commitSQL ends a pipelined transaction, last in its last batch.
	commitSQL = "commit"
)

// queueCommit queues COMMIT as b's last statement. A COMMIT that finds its
// transaction failed answers ROLLBACK without an error; that is an error
// here (as pgx's Tx.Commit reports it), though in a pipeline a failed
// statement keeps the COMMIT after it from running at all.
func queueCommit(b *pgx.Batch) {
	b.Queue(commitSQL).Exec(func(tag pgconn.CommandTag) error {
		if tag.String() != "COMMIT" {
			return fmt.Errorf("commit answered %q: %w", tag.String(), pgx.ErrTxCommitRollback)
		}
		return nil
	})
}

// endTx gives back a connection that ran a pipelined transaction: one left
// inside a transaction (a statement failed, or COMMIT was never sent) is
// rolled back first, even when ctx is cancelled; one whose rollback fails
// or that is broken is closed by the pool rather than reused.
func endTx(ctx context.Context, c *pgxpool.Conn) {
	defer c.Release()
	conn := c.Conn()
	if conn.IsClosed() || conn.PgConn().IsBusy() || conn.PgConn().TxStatus() == 'I' {
		return
	}
	if _, err := conn.Exec(context.WithoutCancel(ctx), "rollback"); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
	}
}
