// Package pgstore is the PostgreSQL store of medsettle (jackc/pgx/v5): the
// production store. A settlement locks the person's row, so a person's
// settlements never interleave; settlements arriving together share one
// transaction (group commit, settle_group.go), each computed against the
// state its predecessors left, with the persons locked in id order;
// idempotency keys sit under a primary key; the schema is migrated at
// start from files embedded in the binary.
package pgstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/medsettle/medsettle/store"
)

var _ store.Store = (*Store)(nil)

// DefaultSchema is the schema medsettle uses unless told otherwise.
const DefaultSchema = "medsettle"

// defaultMaxConns sizes the pool unless the URL (pool_max_conns) or
// Options say otherwise: settlements of different persons run in parallel,
// one connection each.
const defaultMaxConns = 32

// Options configure Open.
type Options struct {
	// Schema holds every table; DefaultSchema when empty. Tests use one
	// schema each.
	Schema string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Log receives connection trouble of the policy listener (slog.Default when nil).
	Log *slog.Logger
	// MaxConns caps the pool (defaultMaxConns, or pool_max_conns of the URL, when 0).
	MaxConns int32
	// MaxBatch caps how many settlements, how many audit events, and
	// how many fee-detail uploads share one transaction (group commit,
	// DECISIONS.md "Group commit on PostgreSQL"):
	// DefaultMaxBatch when 0; 1 turns group commit off (every settlement
	// its own transaction).
	MaxBatch int
	// Batches is how many group transactions may run at once
	// (DefaultBatches when 0).
	Batches int
	// Tracer, when set, traces every connection's statements (pgx's
	// ConnConfig.Tracer: it may also be a pgx.BatchTracer,
	// pgx.PrepareTracer, …): telemetry, and tests that count round trips.
	Tracer pgx.QueryTracer
}

// DefaultMaxBatch is how many settlements share one transaction at most
// unless Options say otherwise.
const DefaultMaxBatch = 64

// DefaultBatches is how many group transactions run at once unless Options
// say otherwise: while one waits for its COMMIT, the next reads and
// computes.
const DefaultBatches = 2

// Store is a store.Store on PostgreSQL.
type Store struct {
	pool   *pgxpool.Pool
	schema string
	q      queries
	now    func() time.Time
	log    *slog.Logger

	policies policyCache
	// institutions caches GetInstitution, dropped as policies are.
	institutions instCache
	// accs remembers the accumulators documents last written or read.
	accs accMemo
	// settles queues Settle calls for group commit; nil when off.
	settles *groupQueue[*settleCall]
	// audits queues AppendAudit calls for group commit; nil when off.
	audits     *groupQueue[*auditCall]
	groupStats groupStats
	// details group-commits PutFeeDetails (details_group.go).
	details detailGroup
	// failGroup, set by tests, fails a group's transaction after its
	// writes (sent, or queued for its last batch) when it returns an
	// error.
	failGroup func() error
	// commitProbe, set by tests, is a statement queued in a group's
	// last pipelined batch just before its COMMIT (one that fails there
	// fails the group inside its pipeline).
	commitProbe string
	stop        context.CancelFunc
	wg          sync.WaitGroup
}

// Open connects to PostgreSQL, applies the embedded migrations and starts
// following policy changes. Every connection runs with an empty
// search_path: each query names its schema, so one that forgets fails;
// and it knows the engine's figures as NUMERIC (registerFigures).
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 5*time.Second {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		registerFigures(c.TypeMap())
		_, err := c.Exec(ctx, "SELECT pg_catalog.set_config('search_path', '', false)")
		return err
	}
	s := &Store{schema: opts.Schema, now: opts.Now, log: opts.Log}
	if s.schema == "" {
		s.schema = DefaultSchema
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.q = newQueries(pgx.Identifier{s.schema}.Sanitize())
	if opts.MaxBatch == 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.Batches == 0 {
		opts.Batches = DefaultBatches
	}
	if opts.MaxBatch > 1 {
		s.settles = newGroupQueue(opts.MaxBatch, opts.Batches, s.settleGroup)
		// Audit events take one runner: the events of a settlement
		// group's callers arrive in a burst as the group answers, and a
		// second runner took the burst's second event alone (most audit
		// transactions, each a WAL flush, held one event); with one, the
		// burst's first event goes alone and the rest wait for it and
		// share the next transaction.
		s.audits = newGroupQueue(opts.MaxBatch, 1, s.appendGroup)
		s.details.q = newGroupQueue(opts.MaxBatch, opts.Batches, s.putDetailsGroup)
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if _, err := s.migrate(ctx); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("migrate schema %q: %w", s.schema, err)
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.wg.Add(1)
	go s.followPolicies(lctx, cfg.ConnConfig.Copy())
	return s, nil
}

// Close stops the policy listener and closes the pool.
func (s *Store) Close() {
	s.stop()
	s.wg.Wait()
	s.pool.Close()
}

// Schema is the schema the store's tables live in.
func (s *Store) Schema() string { return s.schema }

// withTx runs fn in a transaction and commits it when fn returns nil. The
// rollback runs with context.WithoutCancel, so a cancelled request still
// releases its locks at once.
func (s *Store) withTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return translate(err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	return translate(tx.Commit(ctx))
}

// queries are the store's SQL with the schema filled in once.
type queries struct {
	getPerson, lockPerson, setBalance                                 string
	putInstitution, deleteBudgets, putBudget, getInstitution, budgets string
	putPolicy, listPolicies, notifyPolicies                           string
	getYear, putYear                                                  string
	getKey, putKey                                                    string
	insertSettlement, getSettlement, reverseSettlement                string
	budgetUsed, addBudget                                             string
	listenChannel                                                     string
}

func newQueries(schema string) queries {
	r := strings.NewReplacer("{s}", schema)
	q := queries{
		getPerson:  `SELECT ` + personColumns + ` FROM {s}.persons WHERE person_id = $1`,
		lockPerson: `SELECT ` + personColumns + ` FROM {s}.persons WHERE person_id = $1 FOR UPDATE`,
		setBalance: `UPDATE {s}.persons SET account_balance = account_balance + $2 WHERE person_id = $1`,
		putInstitution: `INSERT INTO {s}.institutions (institution_id, name, region, level) VALUES ($1, $2, $3, $4)
			ON CONFLICT (institution_id) DO UPDATE SET name = $2, region = $3, level = $4`,
		deleteBudgets:  `DELETE FROM {s}.institution_budgets WHERE institution_id = $1`,
		putBudget:      `INSERT INTO {s}.institution_budgets (institution_id, year, amount) VALUES ($1, $2, $3)`,
		getInstitution: `SELECT institution_id, name, region, level FROM {s}.institutions WHERE institution_id = $1`,
		budgets:        `SELECT year, amount FROM {s}.institution_budgets WHERE institution_id = $1 ORDER BY year`,
		putPolicy: `INSERT INTO {s}.policies (region, scheme, version, effective_from, effective_to, document, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (region, scheme, version) DO UPDATE SET effective_from = $4, effective_to = $5, document = $6, updated_at = $7`,
		listPolicies: `SELECT document FROM {s}.policies ORDER BY region, scheme, effective_from`,
		getYear:      `SELECT accumulators FROM {s}.person_years WHERE person_id = $1 AND year = $2`,
		putYear: `INSERT INTO {s}.person_years (person_id, year, accumulators) VALUES ($1, $2, $3)
			ON CONFLICT (person_id, year) DO UPDATE SET accumulators = $3`,
		getKey: `SELECT fingerprint, settlement_id FROM {s}.request_keys WHERE institution_id = $1 AND request_id = $2`,
		putKey: `INSERT INTO {s}.request_keys (institution_id, request_id, fingerprint, settlement_id) VALUES ($1, $2, $3, $4)`,
		// The settlement and its idempotency key in one statement: a key
		// taken meanwhile fails the whole insert (unique violation).
		insertSettlement: `WITH s AS (
				INSERT INTO {s}.settlements (settlement_id, institution_id, request_id, person_id, visit_type, settle_date, year,
					state, fingerprint, claim, result, total, basic_fund, fund_total, account, settled_at,
					policy_region, policy_scheme, drg_code, personal_total)
				VALUES ($20, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
					$16, $17, $18, $19)
				RETURNING settlement_id)
			INSERT INTO {s}.request_keys (institution_id, request_id, fingerprint, settlement_id)
			SELECT $1, $2, $8, settlement_id FROM s
			RETURNING settlement_id`,
		getSettlement: `SELECT settlement_id, state, fingerprint, claim, result, coalesce(reversal_request_id, ''), coalesce(reversal_reason, ''),
				balance_after_reversal
			FROM {s}.settlements WHERE settlement_id = $1`,
		reverseSettlement: `UPDATE {s}.settlements SET state = $2, reversal_request_id = $3, reversal_reason = $4, reversed_at = $5,
				balance_after_reversal = $6
			WHERE settlement_id = $1`,
		budgetUsed: `SELECT coalesce(sum(used), 0) FROM {s}.budget_usage WHERE institution_id = $1 AND year = $2`,
		// addBudget adds to a shard no other transaction holds, or to a new
		// one when all are held: it never waits for another settlement.
		addBudget: `WITH pick AS (
				SELECT shard FROM {s}.budget_usage WHERE institution_id = $1 AND year = $2
				LIMIT 1 FOR UPDATE SKIP LOCKED
			), upd AS (
				UPDATE {s}.budget_usage u SET used = u.used + $3 FROM pick
				WHERE u.institution_id = $1 AND u.year = $2 AND u.shard = pick.shard
				RETURNING u.shard
			)
			INSERT INTO {s}.budget_usage (institution_id, year, shard, used)
			SELECT $1, $2, nextval('{s}.budget_usage_shard'), $3 WHERE NOT EXISTS (SELECT 1 FROM upd)`,
	}
	for _, p := range []*string{
		&q.getPerson, &q.lockPerson, &q.setBalance, &q.putInstitution, &q.deleteBudgets, &q.putBudget,
		&q.getInstitution, &q.budgets, &q.putPolicy, &q.listPolicies, &q.getYear, &q.putYear, &q.getKey, &q.putKey,
		&q.insertSettlement, &q.getSettlement, &q.reverseSettlement, &q.budgetUsed, &q.addBudget,
	} {
		*p = r.Replace(*p)
	}
	q.listenChannel = "medsettle_policies_" + strings.Trim(schema, `"`)
	q.notifyPolicies = "SELECT pg_notify($1, '')"
	return q
}

// Pool is the store's connection pool, for operational queries and tests.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
