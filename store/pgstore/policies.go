package pgstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
)

// policyCache holds every policy in memory; it is dropped whenever any
// server changes a policy (LISTEN/NOTIFY) and reloaded on next use.
type policyCache struct {
	mu    sync.Mutex
	gen   uint64 // bumped on every invalidation
	valid bool
	all   []*engine.Policy
}

func (c *policyCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.valid = false
	c.all = nil
	c.mu.Unlock()
}

// PutPolicy stores a policy, replacing the same version, and tells every
// server to reload. Returns a *engine.ValidationError if its validity
// overlaps another version; the check and the write hold a transaction
// advisory lock per region and scheme, so two writers cannot both pass.
func (s *Store) PutPolicy(ctx context.Context, p *engine.Policy) error {
	doc, err := encodePolicy(p)
	if err != nil {
		return err
	}
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
			fmt.Sprintf("%s policy %s %d", s.schema, p.Region, p.Scheme)); err != nil {
			return translate(err)
		}
		all, err := s.loadPolicies(ctx, tx)
		if err != nil {
			return err
		}
		if err := engine.CheckOverlap(p, all); err != nil {
			return err
		}
		scheme, err := schemeCodes.code(p.Scheme)
		if err != nil {
			return fmt.Errorf("policy %s/%s: %w", p.Region, p.Version, err)
		}
		if _, err := tx.Exec(ctx, s.q.putPolicy, p.Region, int16(scheme), p.Version, p.EffectiveFrom.String(),
			p.EffectiveTo.String(), doc, s.now()); err != nil {
			return translate(err)
		}
		_, err = tx.Exec(ctx, s.q.notifyPolicies, s.q.listenChannel)
		return translate(err)
	})
	if err == nil {
		s.policies.invalidate()
	}
	return err
}

func (s *Store) loadPolicies(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) ([]*engine.Policy, error) {
	rows, err := q.Query(ctx, s.q.listPolicies)
	if err != nil {
		return nil, translate(err)
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, translate(err)
	}
	out := make([]*engine.Policy, 0, len(docs))
	for _, d := range docs {
		p, err := decodePolicy(d)
		if err != nil {
			return nil, s.corrupt("stored policy", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Policies lists policies of a region and scheme from the cache, loading
// it when a change made it stale.
func (s *Store) Policies(ctx context.Context, region string, scheme engine.Scheme) ([]*engine.Policy, error) {
	c := &s.policies
	c.mu.Lock()
	all, valid, gen := c.all, c.valid, c.gen
	c.mu.Unlock()
	if !valid {
		loaded, err := s.loadPolicies(ctx, s.pool)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.gen == gen { // no change arrived while we loaded
			c.all, c.valid = loaded, true
		}
		c.mu.Unlock()
		all = loaded
	}
	var out []*engine.Policy
	for _, p := range all {
		if (region == "" || p.Region == region) && (scheme == engine.SchemeUnspecified || p.Scheme == scheme) {
			out = append(out, p)
		}
	}
	return out, nil
}

// followPolicies listens for policy changes on a dedicated connection and
// drops the cache on each one. While the connection is down the cache is
// not trusted: it is dropped on every reconnect.
func (s *Store) followPolicies(ctx context.Context, cfg *pgx.ConnConfig) {
	defer s.wg.Done()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, cfg)
		s.policies.invalidate()
		s.institutions.invalidate()
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("policy listener lost its connection; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.q.listenChannel}.Sanitize()); err != nil {
		return err
	}
	s.policies.invalidate() // changes may have been missed while not listening
	s.institutions.invalidate()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.policies.invalidate()
		s.institutions.invalidate()
	}
}
